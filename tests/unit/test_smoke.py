from ledger.items import services as svc
from ledger.items.queries import ItemFilter, list_items


def test_a_finding_goes_all_the_way_to_closed(sanhu, world):
    with sanhu.uow() as uow:
        item = svc.record_finding(uow, world["town_T11"], unit_id=world.units["V111"].id,
                                  description="制度未上墙")
    steps = [
        (svc.assign, "town_T11", dict(responsible_user_id=world["sec_V111"].id,
                                      category="deadline", deadline="5w")),
        (svc.accept, "sec_V111", dict(measures="制作制度牌")),
        (svc.submit, "sec_V111", dict(note="已上墙", uploads=[svc.Upload(b"%PDF-1.4\n%%EOF\n",
                                                                        "a.pdf")])),
        (svc.verify, "town_T11", dict(method="实地查看", note="到位")),
        (svc.close, "county_K1", {}),
    ]
    for fn, who, kwargs in steps:
        with sanhu.uow() as uow:
            result = fn(uow, item.id, world[who], **kwargs)
    assert result.status == "closed" and result.version == 6
    with sanhu.uow() as uow:
        page = list_items(uow.session, world["sec_V111"], ItemFilter(status="closed"),
                          today=uow.today())
        assert [r["number"] for r in page.rows] == [item.number]


def test_a_township_finding_is_rectified_by_the_township_and_verified_by_the_county(
        sanhu, world):
    pdf = svc.Upload(b"%PDF-1.4\n%%EOF\n", "a.pdf")
    with sanhu.uow() as uow:
        item = svc.record_finding(uow, world["county_K1"], unit_id=world.units["T11"].id,
                                  description="乡镇党委未按时召开组织生活会")
    steps = [
        (svc.assign, "county_K1", dict(responsible_user_id=world["town_T11"].id,
                                       category="deadline", deadline="10w"), "assigned"),
        (svc.accept, "town_T11", dict(measures="补开组织生活会"), "rectifying"),
        (svc.submit, "town_T11", dict(note="已补开", uploads=[pdf]), "submitted"),
        (svc.verify, "county_K1", dict(method="查阅会议记录", note="到位"), "verified"),
    ]
    for fn, who, kwargs, status in steps:
        with sanhu.uow() as uow:
            assert fn(uow, item.id, world[who], **kwargs).status == status


def test_findings_against_a_county_are_refused_because_nobody_could_assign_them(sanhu, world):
    import pytest

    from ledger.core.errors import ValidationError

    with sanhu.uow() as uow, pytest.raises(ValidationError):
        svc.record_finding(uow, world["sup_city"], unit_id=world.units["K1"].id,
                           description="县级问题")


def test_available_events_follow_the_item_and_hide_it_outside_the_scope(sanhu, world):
    import pytest

    from ledger.core.errors import NotFound

    with sanhu.uow() as uow:
        item = svc.record_finding(uow, world["town_T11"], unit_id=world.units["V111"].id,
                                  description="问题")
    with sanhu.uow() as uow:
        assert svc.available_events(uow, item.id, world["town_T11"]) == ["assign"]
        assert svc.available_events(uow, item.id, world["county_K1"]) == ["assign", "dismiss"]
        assert svc.available_events(uow, item.id, world["sec_V111"]) == []
        with pytest.raises(NotFound):
            svc.available_events(uow, item.id, world["sec_V112"])


def test_counts_stop_at_the_cap_and_say_so(sanhu, world, monkeypatch):
    import ledger.items.queries as q

    for n in range(4):
        with sanhu.uow() as uow:
            svc.record_finding(uow, world["town_T11"], unit_id=world.units["V111"].id,
                               description=f"问题{n}")
    monkeypatch.setattr(q, "COUNT_CAP", 2)
    with sanhu.uow() as uow:
        page = q.list_items(uow.session, world["town_T11"], today=uow.today(),
                            with_counts=True)
    assert page.counts["found"] == 3 and page.counts["closed"] == 0
    assert page.total == 2 and page.total_capped
