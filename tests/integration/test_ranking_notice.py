"""The county's ranking notice (通报排名) through the services, on SQLite and PostgreSQL.

The ledger and the published ranking are ``ranking_notice_helpers``; the notice
is issued on 20 November 2026 (Asia/Shanghai), in 2026's fourth quarter.
"""

from __future__ import annotations

import pytest
import time_machine
from ranking_notice_helpers import (
    EXPECTED,
    EXPECTED_TOTAL,
    ISSUE_DAY,
    PDF,
    at,
    build_ledger,
    publish_county_ranking,
)
from sqlalchemy import func, select, update

from ledger.core.errors import InvalidTransition, NotFound, PermissionDenied, ValidationError
from ledger.core.models import (
    Delivery,
    Notice,
    NoticeRanking,
    Notification,
    RankingRow,
    Role,
    Unit,
    User,
)
from ledger.items import services as svc
from ledger.org.directory import add_user
from ledger.results import rankings
from ledger.results.notice import get_ranking_notice, issue_ranking_notice
from ledger.supervision import acts as sup
from ledger.supervision import board as sup_board

TITLE = "关于2026年下半年乡镇观摩评议排名情况的通报"
BODY = "现将各乡镇排名及问题整改情况通报如下。"


@pytest.fixture
def county(any_sanhu, any_world):
    """K1's published 2026H2 ranking and the hand-built ledger, time frozen on the issue day."""
    with time_machine.travel(ISSUE_DAY, tick=True):
        setup = publish_county_ranking(any_sanhu, any_world)
        setup["items"] = build_ledger(any_sanhu, any_world)
        yield setup


def issue(app, world, ranking_id, who="county_K1", title=TITLE, body=BODY):
    with app.uow() as uow:
        return issue_ranking_notice(uow, ranking_id, world[who], title=title, body=body)


def figures(view) -> dict[str, tuple]:
    return {r["name"]: (r["figures"].found, r["figures"].closed, r["figures"].rate,
                        r["figures"].overdue, r["figures"].reopened) for r in view.rows}


def test_the_notice_lists_the_townships_places_classes_and_ledger_figures(
        any_sanhu, any_world, county):
    issued = issue(any_sanhu, any_world, county["ranking"])
    assert issued.number == "2026年第4季度第1号"
    with any_sanhu.uow() as uow:
        view = get_ranking_notice(uow.session, any_world["county_K1"], issued.notice_id)
        scores = dict(uow.session.execute(select(RankingRow.unit_id, RankingRow.score).where(
            RankingRow.ranking_id == county["ranking"])).all())
    t11, t12 = any_world.units["T11"].id, any_world.units["T12"].id
    assert scores[t11] > scores[t12]
    assert (view.notice.title, view.notice.body, view.unit.name) == (TITLE, BODY, "县1")
    assert [(r["rank"], r["name"], r["score"], r["klass"]) for r in view.rows] == [
        (1, "乡11", scores[t11], "middle"), (2, "乡12", scores[t12], "middle")]
    assert figures(view) == {"乡11": EXPECTED["T11"], "乡12": EXPECTED["T12"]}
    total = view.total
    assert (total.found, total.closed, total.rate, total.overdue, total.reopened) == \
        EXPECTED_TOTAL
    assert (view.first.isoformat(), view.last.isoformat()) == ("2026-07-01", "2026-12-31")


def test_ranking_notices_and_item_notices_share_one_sequence_per_quarter(
        any_sanhu, any_world, county):
    late = county["items"]["D"]
    with any_sanhu.uow() as uow:
        first = sup.issue_notice(uow, [late], any_world["sup_K1"], title="逾期通报", body="通报。")
    ranking = issue(any_sanhu, any_world, county["ranking"])
    with any_sanhu.uow() as uow:
        third = sup.issue_notice(uow, [late], any_world["sup_K1"], title="再次通报", body="通报。")
    assert [first.number, ranking.number, third.number] == [
        "2026年第4季度第1号", "2026年第4季度第2号", "2026年第4季度第3号"]
    with any_sanhu.uow() as uow:
        notice = uow.session.get(Notice, ranking.notice_id)
        assert (notice.year, notice.quarter, notice.serial, notice.ranking_id) == (
            2026, 4, 2, county["ranking"])


def test_the_printed_notice_never_changes_after_issue(any_sanhu, any_world, county):
    w = any_world
    issued = issue(any_sanhu, w, county["ranking"])
    with any_sanhu.uow() as uow:
        before = get_ranking_notice(uow.session, w["county_K1"], issued.notice_id)
        before = (figures(before), [(r["rank"], r["score"], r["klass"]) for r in before.rows])
    # the ledger moves on: T12's overdue item is closed, a new one is found
    e = county["items"]["E"]
    for step, who, kw in ((svc.accept, "sec_V121", {"measures": "补齐"}),
                          (svc.submit, "sec_V121", {"note": "已补齐",
                                                    "uploads": [svc.Upload(PDF, "a.pdf")]}),
                          (svc.verify, "town_T12", {"method": "查看", "note": "已整改"}),
                          (svc.close, "county_K1", {})):
        with any_sanhu.uow() as uow:
            step(uow, e, w[who], **kw)
    with any_sanhu.uow(clock=lambda: at(11, 19)) as uow:
        svc.record_finding(uow, w["town_T11"], unit_id=w.units["V111"].id, description="新问题")
    # the ranking is corrected: a new version, T12 moved to 后进, published
    with any_sanhu.uow() as uow:
        fix = rankings.compute(uow, county["cycle"], w["county_K1"], reason="分数更正")
    with any_sanhu.uow() as uow:
        rankings.change_class(uow, fix.id, w.units["T12"].id, w["county_K1"],
                              klass="lagging", reason="整改不力")
    with any_sanhu.uow() as uow:
        rankings.approve(uow, fix.id, county["leader"])
    with any_sanhu.uow() as uow:
        rankings.publish(uow, fix.id, w["county_K1"])
    with any_sanhu.uow() as uow:
        uow.session.execute(update(Unit).where(Unit.id == w.units["T11"].id)
                            .values(name="乡11(更名)"))
        uow.commit()
    with any_sanhu.uow() as uow:
        after = get_ranking_notice(uow.session, w["county_K1"], issued.notice_id)
        after = (figures(after), [(r["rank"], r["score"], r["klass"]) for r in after.rows])
    assert after == before
    # the superseded version cannot be notified again; the correction can
    with any_sanhu.uow() as uow, pytest.raises(InvalidTransition, match="published"):
        issue_ranking_notice(uow, county["ranking"], w["county_K1"], title=TITLE, body=BODY)
    again = issue(any_sanhu, w, fix.id)
    with any_sanhu.uow() as uow:
        view = get_ranking_notice(uow.session, w["county_K1"], again.notice_id)
    assert figures(view)["乡12"] == (1, 1, 100.0, 0, 0)
    assert [r["klass"] for r in view.rows] == ["middle", "lagging"]
    assert again.number == "2026年第4季度第2号"


def test_only_the_observing_countys_staff_notify_a_published_ranking(
        any_sanhu, any_world, county):
    w = any_world
    for who, error in (("town_T11", NotFound), ("county_K2", NotFound), ("sec_V111", NotFound),
                       ("town_T21", NotFound), ("city", PermissionDenied),
                       ("sup_K1", PermissionDenied)):
        with any_sanhu.uow() as uow, pytest.raises(error):
            issue_ranking_notice(uow, county["ranking"], w[who], title=TITLE, body=BODY)
    for title, body, field in (("  ", BODY, "title"), (TITLE, "", "body"),
                               ("长" * 201, BODY, "title"), (TITLE, "文" * 20001, "body")):
        with any_sanhu.uow() as uow, pytest.raises(ValidationError) as caught:
            issue_ranking_notice(uow, county["ranking"], w["county_K1"], title=title, body=body)
        assert field in caught.value.fields
    with any_sanhu.uow() as uow, pytest.raises(NotFound):
        issue_ranking_notice(uow, "x", w["county_K1"], title=TITLE, body=BODY)
    # a draft is not notified
    with any_sanhu.uow() as uow:
        draft = rankings.compute(uow, county["cycle"], w["county_K1"], reason="更正")
    with any_sanhu.uow() as uow, pytest.raises(InvalidTransition, match="published"):
        issue_ranking_notice(uow, draft.id, w["county_K1"], title=TITLE, body=BODY)
    with any_sanhu.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Notice)) == 0
    # refusals took no number; a ranking is notified once
    assert issue(any_sanhu, w, county["ranking"]).number == "2026年第4季度第1号"
    with any_sanhu.uow() as uow, pytest.raises(InvalidTransition, match="already"):
        issue_ranking_notice(uow, county["ranking"], w["county_K1"], title=TITLE, body=BODY)


def test_a_townships_ranking_of_its_villages_is_not_notified_this_way(
        any_sanhu, any_world, county):
    from observation_helpers import observation_of, start_and_fill

    from ledger.core.models import Observation
    from ledger.observations import services as obs_svc

    w = any_world
    oid = observation_of(any_sanhu, w, "village_quarterly", "2026Q4", "V111")
    start_and_fill(any_sanhu, oid, w["town_T11"], score=85)
    for step in (obs_svc.submit, obs_svc.confirm):
        with any_sanhu.uow() as uow:
            step(uow, oid, w["town_T11"])
    with any_sanhu.uow() as uow:
        cycle_id = uow.session.get(Observation, oid).cycle_id
        draft = rankings.compute(uow, cycle_id, w["town_T11"])
    for who in ("town_T11", "county_K1"):
        with any_sanhu.uow() as uow, pytest.raises(PermissionDenied):
            issue_ranking_notice(uow, draft.id, w[who], title=TITLE, body=BODY)


def test_the_leaders_and_the_townships_staff_are_notified_once_each(
        any_sanhu, any_world, county):
    w = any_world
    with any_sanhu.uow() as uow:
        t11 = uow.session.get(Unit, w.units["T11"].id)
        gone = add_user(uow.session, username="gone_T11", display_name="已调离",
                        role=Role.TOWNSHIP_STAFF, unit=t11, password="pw-for-tests-1")
        gone.active = False
        uow.commit()
    issued = issue(any_sanhu, w, county["ranking"])
    with any_sanhu.uow() as uow:
        got = uow.session.execute(
            select(User.username, Notification.kind, Notification.notice_id,
                   Notification.audience)
            .join(User, User.id == Notification.user_id)
            .where(Notification.notice_id == issued.notice_id)).all()
        inbox = uow.session.scalar(select(func.count()).select_from(Delivery).join(
            Notification, Notification.id == Delivery.notification_id).where(
            Notification.notice_id == issued.notice_id, Delivery.channel == "inbox"))
    names = sorted(r.username for r in got)
    assert names == ["county_K1", "leader_K1", "sup_K1", "town_T11", "town_T12"]
    assert issued.notified == 5 and inbox == 5
    assert {(r.kind, r.notice_id) for r in got} == {("notice", issued.notice_id)}
    assert {r.username: r.audience for r in got}["town_T12"] == "township"


def test_who_reads_a_ranking_notice_and_item_notices_are_scoped_as_before(
        any_sanhu, any_world, county):
    w = any_world
    issued = issue(any_sanhu, w, county["ranking"])
    with any_sanhu.uow() as uow:
        item_notice = sup.issue_notice(uow, [county["items"]["D"]], w["sup_K1"],
                                       title="逾期通报", body="通报。")
    readers = ("county_K1", "sup_K1", "city", "sup_city", "admin", "town_T11", "town_T12")
    others = ("county_K2", "sup_K2", "town_T21", "sec_V111", "sec_V121")
    with any_sanhu.uow() as uow:
        for who in readers:
            listed = [n.id for n in sup_board.list_notices(uow.session, w[who])]
            assert issued.notice_id in listed, who
            assert get_ranking_notice(uow.session, w[who], issued.notice_id).rows
        for who in others:
            listed = [n.id for n in sup_board.list_notices(uow.session, w[who])]
            assert issued.notice_id not in listed, who
            with pytest.raises(NotFound):
                get_ranking_notice(uow.session, w[who], issued.notice_id)
        # the item notice: only where its item lies, as before
        seen = {who: item_notice.notice_id in [n.id for n in sup_board.list_notices(
            uow.session, w[who])] for who in ("sec_V112", "town_T11", "town_T12", "county_K2")}
        assert seen == {"sec_V112": True, "town_T11": True, "town_T12": False,
                        "county_K2": False}
        with pytest.raises(NotFound):
            get_ranking_notice(uow.session, w["county_K1"], item_notice.notice_id)
        with pytest.raises(NotFound):
            sup_board.get_notice(uow.session, w["county_K1"], issued.notice_id)
        assert uow.session.scalar(select(func.count()).select_from(NoticeRanking)) == 2
