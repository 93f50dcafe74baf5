from ledger import services as svc
from ledger.queries import ItemFilter, list_items


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
