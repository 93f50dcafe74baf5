"""Supervision on SQLite and PostgreSQL: 催办, 约谈, 函询, 挂牌督办, 通报 and the overdue board.

Overdue items are made the way they happen: recorded and assigned some weeks
ago (a unit of work with a clock in the past), so that today the deadline has
passed.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import select

from ledger.catalog.standards import current_catalog
from ledger.core.errors import (
    Conflict,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from ledger.core.models import (
    Item,
    ItemEvent,
    Notice,
    NoticeItem,
    Notification,
    Standard,
    SupervisionRecord,
    SupervisionRecordItem,
)
from ledger.items import services as svc
from ledger.observations.cycles import open_cycle
from ledger.supervision import acts as sup
from ledger.supervision import board as sup_board

PDF = b"%PDF-1.4\n%%EOF\n"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def make_overdue(app, world, unit="V111", *, days_ago=40, deadline="10d", who="town_T11",
                 standard_id=None, cycle_id=None, accept=False) -> int:
    """An item of ``unit`` recorded and assigned ``days_ago`` days ago with a short deadline."""
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=days_ago)
    with app.uow(clock=lambda: start) as uow:
        item = svc.record_finding(uow, world[who], unit_id=world.units[unit].id,
                                  description=f"{unit} 三会一课记录不全",
                                  standard_id=standard_id, cycle_id=cycle_id)
    with app.uow(clock=lambda: start) as uow:
        svc.assign(uow, item.id, world[who], responsible_user_id=world[f"sec_{unit}"].id,
                   category="deadline", deadline=deadline)
    if accept:
        with app.uow() as uow:
            svc.accept(uow, item.id, world[f"sec_{unit}"], measures="补齐记录")
    return item.id


def reject_times(app, world, item_id: int, unit: str, n: int) -> None:
    """Accept the item, then submit and send it back ``n`` times."""
    sec, town = world[f"sec_{unit}"], world[f"town_T{unit[1:3]}"]
    with app.uow() as uow:
        svc.accept(uow, item_id, sec, measures="补齐记录")
    for _ in range(n):
        with app.uow() as uow:
            svc.submit(uow, item_id, sec, note="已补齐", uploads=[svc.Upload(PDF, "a.pdf")])
        with app.uow() as uow:
            svc.reject(uow, item_id, town, reason="仍不全")


def item_of(app, item_id: int) -> Item:
    with app.uow() as uow:
        return uow.session.get(Item, item_id)


def history(app, item_id: int) -> list[ItemEvent]:
    with app.uow() as uow:
        return list(uow.session.scalars(select(ItemEvent).where(ItemEvent.item_id == item_id)
                                        .order_by(ItemEvent.seq)))


def linked(app, record_id: int) -> list[int]:
    with app.uow() as uow:
        return list(uow.session.scalars(select(SupervisionRecordItem.item_id).where(
            SupervisionRecordItem.record_id == record_id).order_by(SupervisionRecordItem.item_id)))


@pytest.fixture
def two(any_sanhu, any_world):
    """Two overdue items in county K1 (villages V111 and V121)."""
    return [make_overdue(any_sanhu, any_world, "V111"),
            make_overdue(any_sanhu, any_world, "V121", who="town_T12")]


INTERVIEW = dict(held_at="2026-11-20T09:30", place="县委组织部会议室", interviewer="李组长",
                 interviewee="王书记", interviewee_post="村党支部书记",
                 reason="整改逾期且多次退回", minutes="指出问题,提出要求。",
                 outcome="表态一周内完成",
                 follow_up_deadline="2026-12-31")


# --- 催办 ----------------------------------------------------------------------------


def test_urging_many_items_makes_one_record_an_entry_on_each_and_inbox_messages(
        any_sanhu, any_world, two):
    app, world = any_sanhu, any_world
    versions = [item_of(app, i).version for i in two]
    with app.uow() as uow:
        result = sup.urge(uow, two, world["sup_city"], note="请于本周内完成整改")
    assert result.done == two and not result.refused
    assert linked(app, result.record_id) == two
    for item_id, before in zip(two, versions, strict=True):
        item = item_of(app, item_id)
        assert item.version == before + 1
        assert item.supervision["urged"] == 1
        last = history(app, item_id)[-1]
        assert (last.event, last.seq, last.from_status, last.to_status) == \
            ("urge", before + 1, "assigned", "assigned")
        assert last.note == "请于本周内完成整改"
        assert last.changes == {"record_id": result.record_id}
        assert last.actor_id == world["sup_city"].id
    with app.uow() as uow:
        notes = uow.session.scalars(select(Notification).where(Notification.kind == "urge")
                                    .order_by(Notification.item_id)).all()
    assert [(n.user_id, n.item_id) for n in notes] == [
        (world["sec_V111"].id, two[0]), (world["sec_V121"].id, two[1])]
    assert "请于本周内完成整改" in notes[0].body
    # urging again within three days needs confirming, and then counts up
    with app.uow() as uow, pytest.raises(sup.RecentlyUrged) as asked:
        sup.urge(uow, two[:1], world["county_K1"])
    assert [(u.item_id, u.by) for u in asked.value.urged] == [
        (two[0], "sup_city")]
    assert item_of(app, two[0]).supervision["urged"] == 1
    with app.uow() as uow:
        sup.urge(uow, two[:1], world["county_K1"], confirmed=True)
    assert item_of(app, two[0]).supervision["urged"] == 2


def test_county_staff_may_urge_but_not_record_an_interview_and_secretaries_nothing(
        any_sanhu, any_world, two):
    app, world = any_sanhu, any_world
    with app.uow() as uow, pytest.raises(PermissionDenied):
        sup.record_interview(uow, two, world["county_K1"], **INTERVIEW)
    with app.uow() as uow, pytest.raises(PermissionDenied):
        sup.urge(uow, two, world["sec_V111"])
    assert sup.board_actions(world["county_K1"]) == ["urge"]
    assert sup.board_actions(world["sup_K1"]) == list(sup.BOARD_ACTIONS)
    assert sup.board_actions(world["town_T11"]) == []


def test_items_outside_the_scope_are_not_found_and_the_others_still_done(any_sanhu, any_world,
                                                                        two):
    app, world = any_sanhu, any_world
    other = make_overdue(app, world, "V211", who="town_T21")
    with app.uow() as uow:
        result = sup.urge(uow, [*two, other], world["sup_K1"])
    assert result.done == two
    assert [type(r.error) for r in result.refused] == [NotFound]
    assert item_of(app, other).supervision is None
    with app.uow() as uow, pytest.raises(NotFound):
        sup.urge(uow, [other], world["sup_K1"])
    with app.uow() as uow, pytest.raises(NotFound):
        sup.urge(uow, [999999], world["sup_city"])


def test_a_closed_or_found_item_cannot_be_urged(any_sanhu, any_world):
    app, world = any_sanhu, any_world
    with app.uow() as uow:
        found = svc.record_finding(uow, world["town_T11"], unit_id=world.units["V111"].id,
                                   description="新问题").id
    with app.uow() as uow, pytest.raises(InvalidTransition):
        sup.urge(uow, [found], world["sup_city"])
    assert len(history(app, found)) == 1


def test_no_act_is_possible_on_a_closed_item(any_sanhu, any_world):
    app, world = any_sanhu, any_world
    with app.uow() as uow:
        item_id = svc.record_finding(uow, world["town_T11"], unit_id=world.units["V111"].id,
                                     description="重复登记").id
    with app.uow() as uow:
        svc.dismiss(uow, item_id, world["county_K1"], kind="duplicate", reason="重复")
    assert item_of(app, item_id).state == "closed"
    assert sup.board_actions(world["sup_K1"], "closed") == []
    assert sup.board_actions(world["sup_K1"], "rectifying") == list(sup.BOARD_ACTIONS)
    acts = {
        "urge": lambda uow: sup.urge(uow, [item_id], world["sup_K1"], confirmed=True),
        "interview": lambda uow: sup.record_interview(uow, [item_id], world["sup_K1"],
                                                      **INTERVIEW),
        "inquiry": lambda uow: sup.record_inquiry(uow, [item_id], world["sup_K1"],
                                                  question="为何逾期"),
        "listing": lambda uow: sup.place_listing(
            uow, [item_id], world["sup_K1"], reason="r",
            term_until=dt.date.today() + dt.timedelta(30)),
        "notice": lambda uow: sup.issue_notice(uow, [item_id], world["sup_K1"], title="t",
                                               body="b"),
    }
    for action, act in acts.items():
        with app.uow() as uow, pytest.raises(InvalidTransition) as refused:
            act(uow)
        assert refused.value.message == sup.CLOSED_MESSAGE, action
    assert item_of(app, item_id).supervision is None


def test_a_concurrent_change_between_read_and_write_is_a_conflict(any_sanhu, any_world, two):
    app, world = any_sanhu, any_world
    item_id = two[0]
    before = item_of(app, item_id)

    with app.uow() as uow:
        original = sup._load

        def meanwhile(*args):
            # another person changes the item right after the supervisor's service read it
            item = original(*args)
            with app.uow() as other:
                svc.accept(other, item.id, world["sec_V111"], measures="补齐记录")
            return item

        sup._load = meanwhile
        try:
            with pytest.raises(Conflict):
                sup.urge(uow, [item_id], world["sup_city"])
        finally:
            sup._load = original
    after = item_of(app, item_id)
    assert after.version == before.version + 1 and after.state == "rectifying"
    assert after.supervision is None
    assert [h.event for h in history(app, item_id)][-1] == "accept"
    with app.uow() as uow:
        assert uow.session.scalar(select(SupervisionRecord.id)) is None


# --- 约谈 and 函询 ----------------------------------------------------------------------


def test_an_interview_keeps_every_field_and_appears_in_each_items_history(any_sanhu,
                                                                        any_world, two):
    app, world = any_sanhu, any_world
    with app.uow() as uow:
        result = sup.record_interview(uow, two, world["sup_city"], **INTERVIEW)
    with app.uow() as uow:
        record = uow.session.get(SupervisionRecord, result.record_id)
    assert record.kind == "interview" and record.unit_id == world.units["K1"].id
    assert record.details == {
        "held_at": "2026-11-20T09:30", "place": "县委组织部会议室", "interviewer": "李组长",
        "interviewee": "王书记", "interviewee_post": "村党支部书记",
        "reason": "整改逾期且多次退回", "minutes": "指出问题,提出要求。",
        "outcome": "表态一周内完成", "follow_up_deadline": "2026-12-31"}
    for item_id in two:
        last = history(app, item_id)[-1]
        assert last.event == "interview" and "王书记" in last.note
        assert item_of(app, item_id).supervision["interviews"] == 1


def test_an_interview_without_its_required_fields_is_refused_and_writes_nothing(any_sanhu,
                                                                              any_world, two):
    app, world = any_sanhu, any_world
    with app.uow() as uow, pytest.raises(ValidationError) as info:
        sup.record_interview(uow, two, world["sup_city"], **{**INTERVIEW, "place": " ",
                                                             "held_at": "yesterday"})
    assert info.value.fields == {"place": "required"}
    with app.uow() as uow, pytest.raises(ValidationError) as info:
        sup.record_interview(uow, two, world["sup_city"], **{**INTERVIEW, "held_at": "soon"})
    assert info.value.fields == {"held_at": "invalid datetime"}
    assert [h.event for h in history(app, two[0])] == ["record", "assign"]


def test_an_inquiry_and_its_reply(any_sanhu, any_world, two):
    app, world = any_sanhu, any_world
    with app.uow() as uow:
        asked = sup.record_inquiry(uow, two, world["sup_K1"], question="请说明逾期原因",
                                   reply_due=uow.today() + dt.timedelta(days=7))
    with app.uow() as uow:
        record = uow.session.get(SupervisionRecord, asked.record_id)
        assert record.status == "open" and record.details["question"] == "请说明逾期原因"
    with app.uow() as uow, pytest.raises(NotFound):  # another county's supervisor
        sup.record_inquiry_reply(uow, asked.record_id, world["sup_K2"], reply="x",
                                 replied_by="y")
    with app.uow() as uow:
        sup.record_inquiry_reply(uow, asked.record_id, world["sup_K1"],
                                 reply="因资金未到位,已协调解决", replied_by="东山县城关镇党委")
    with app.uow() as uow:
        record = uow.session.get(SupervisionRecord, asked.record_id)
        assert record.status == "replied"
        assert record.details["reply"] == "因资金未到位,已协调解决"
        assert record.details["replied_at"] == uow.today().isoformat()
    for item_id in two:
        assert [h.event for h in history(app, item_id)][-2:] == ["inquiry", "inquiry_reply"]
        marks = item_of(app, item_id).supervision
        assert marks["inquiries"] == 1 and marks["inquiries_answered"] == 1
    with app.uow() as uow, pytest.raises(InvalidTransition):
        sup.record_inquiry_reply(uow, asked.record_id, world["sup_K1"], reply="again",
                                 replied_by="y")


# --- 挂牌督办 ----------------------------------------------------------------------------


def test_a_listing_is_lifted_only_on_approval_by_someone_else_in_scope(any_sanhu, any_world,
                                                                      two):
    app, world = any_sanhu, any_world
    with app.uow() as uow:
        term = uow.today() + dt.timedelta(days=30)
        listed = sup.place_listing(uow, two, world["sup_K1"], reason="逾期超过30个工作日",
                                   term_until=term)
    marks = item_of(app, two[0]).supervision
    assert marks["listed"] is True and marks["listed_until"] == term.isoformat()
    with app.uow() as uow, pytest.raises(InvalidTransition):  # nothing requested yet
        sup.approve_lift(uow, listed.record_id, world["county_K1"])
    with app.uow() as uow, pytest.raises(InvalidTransition):  # already listed
        sup.place_listing(uow, two[:1], world["sup_city"], reason="again", term_until=term)
    with app.uow() as uow, pytest.raises(PermissionDenied):  # county staff do not request
        sup.request_lift(uow, listed.record_id, world["county_K1"], reason="已整改")
    with app.uow() as uow:
        sup.request_lift(uow, listed.record_id, world["sup_K1"], reason="已整改到位")
    with app.uow() as uow, pytest.raises(PermissionDenied):  # the requester never approves
        sup.approve_lift(uow, listed.record_id, world["sup_K1"])
    with app.uow() as uow, pytest.raises(NotFound):  # another county's staff
        sup.approve_lift(uow, listed.record_id, world["county_K2"])
    with app.uow() as uow, pytest.raises(PermissionDenied):  # wrong role
        sup.approve_lift(uow, listed.record_id, world["town_T11"])
    assert item_of(app, two[0]).supervision["listed"] is True
    with app.uow() as uow:
        sup.approve_lift(uow, listed.record_id, world["county_K1"], note="同意摘牌")
    with app.uow() as uow:
        record = uow.session.get(SupervisionRecord, listed.record_id)
    assert record.status == "lifted"
    assert record.details["lift_requested_by"] == world["sup_K1"].id
    assert record.details["lift_approved_by"] == world["county_K1"].id
    for item_id in two:
        assert [h.event for h in history(app, item_id)][-3:] == [
            "listing", "lift_requested", "listing_lifted"]
        marks = item_of(app, item_id).supervision
        assert marks["listed"] is False and marks["lifted"] == 1
    with app.uow() as uow:  # listable again
        sup.place_listing(uow, two[:1], world["sup_city"], reason="再次挂牌", term_until=term)


def test_a_listing_across_two_counties_needs_an_approver_who_sees_both(any_sanhu, any_world,
                                                                      two):
    app, world = any_sanhu, any_world
    other = make_overdue(app, world, "V211", who="town_T21")
    with app.uow() as uow:
        term = uow.today() + dt.timedelta(days=30)
        listed = sup.place_listing(uow, [two[0], other], world["sup_city"], reason="r",
                                   term_until=term)
    with app.uow() as uow:
        record = uow.session.get(SupervisionRecord, listed.record_id)
        assert record.unit_id == world.units["C"].id
        sup.request_lift(uow, listed.record_id, world["sup_city"], reason="已整改")
    with app.uow() as uow, pytest.raises(PermissionDenied):
        sup.approve_lift(uow, listed.record_id, world["county_K1"])
    with app.uow() as uow:
        sup.approve_lift(uow, listed.record_id, world["city"])


def test_a_listing_term_must_lie_ahead(any_sanhu, any_world, two):
    with any_sanhu.uow() as uow, pytest.raises(ValidationError) as info:
        sup.place_listing(uow, two, any_world["sup_city"], reason="r", term_until=uow.today())
    assert info.value.fields == {"term_until": "not in future"}


# --- 通报 -----------------------------------------------------------------------------


def test_a_notice_is_numbered_per_quarter_and_lists_its_items(any_sanhu, any_world, two):
    app, world = any_sanhu, any_world
    with time_machine.travel(dt.datetime(2026, 12, 30, 10, 0, tzinfo=SHANGHAI), tick=False):
        with app.uow() as uow:
            first = sup.issue_notice(uow, two, world["sup_city"], title="关于逾期问题的通报",
                                     body="以下问题逾期未整改,予以通报。")
        with app.uow() as uow:
            second = sup.issue_notice(uow, two[:1], world["sup_city"], title="第二次通报",
                                      body="仍未整改。")
    # 16:30 UTC on 31 December is already 00:30 on 1 January in Shanghai: a new quarter
    with time_machine.travel(dt.datetime(2026, 12, 31, 16, 30, tzinfo=dt.UTC), tick=False), \
            app.uow() as uow:
        third = sup.issue_notice(uow, two[1:], world["sup_city"], title="新年第一号",
                                 body="通报。")
    assert (first.number, second.number, third.number) == (
        "2026年第4季度第1号", "2026年第4季度第2号", "2027年第1季度第1号")
    with app.uow() as uow:
        notice = uow.session.get(Notice, first.notice_id)
        assert (notice.year, notice.quarter, notice.serial) == (2026, 4, 1)
        listed = uow.session.execute(select(NoticeItem.item_id, NoticeItem.days_overdue)
                                     .where(NoticeItem.notice_id == notice.id)
                                     .order_by(NoticeItem.item_id)).all()
    assert [i for i, _ in listed] == two and all(d > 0 for _, d in listed)
    assert item_of(app, two[0]).supervision["notices"] == [first.number, second.number]
    assert item_of(app, two[1]).supervision["notices"] == [first.number, third.number]
    last = history(app, two[0])[-1]
    assert last.event == "notice" and second.number in last.note
    assert last.changes == {"notice_id": second.notice_id, "number": second.number}


def test_notices_issued_at_once_never_share_a_number(any_sanhu, any_world, two):
    app, world = any_sanhu, any_world
    per_thread, barrier = 8, threading.Barrier(2, timeout=30)
    outcomes: dict[str, list] = {"sup_city": [], "sup_K1": []}

    def worker(who: str) -> None:
        barrier.wait()
        for n in range(per_thread):
            # the marks of the same items race: retry conflicts, backing off a little so
            # that neither worker starves the other on a loaded machine
            for attempt in range(100):
                try:
                    with app.uow() as uow:
                        outcomes[who].append(sup.issue_notice(
                            uow, two, world[who], title=f"{who} {n}", body="b").number)
                    break
                except Conflict:
                    time.sleep(0.002 * (attempt % 10))
                    continue
                except BaseException as exc:  # inspected below
                    outcomes[who].append(exc)
                    break

    threads = [threading.Thread(target=worker, args=(w,)) for w in outcomes]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads)
    numbers = outcomes["sup_city"] + outcomes["sup_K1"]
    assert all(isinstance(n, str) for n in numbers), numbers
    with app.uow() as uow:
        stored = uow.session.scalars(select(Notice.serial).order_by(Notice.serial)).all()
    assert stored == list(range(1, len(stored) + 1))
    assert len(numbers) == len(set(numbers)) == len(stored) == 2 * per_thread
    # a notice whose one item conflicted with the other worker's goes out with the other
    # item only (a bulk act reports the refused item): each item's marks name exactly
    # the notices that list it, none lost to the race
    with app.uow() as uow:
        for item_id in two:
            listed = set(uow.session.scalars(
                select(Notice.number).join(NoticeItem, NoticeItem.notice_id == Notice.id)
                .where(NoticeItem.item_id == item_id)))
            assert listed and set(item_of(app, item_id).supervision["notices"]) == listed


# --- the board ------------------------------------------------------------------------


def board_numbers(app, actor, **kwargs) -> list[str]:
    with app.uow() as uow:
        page = sup_board.board(uow.session, actor, uow.today(), **kwargs)
    return [r["number"] for r in page.rows]


def test_the_board_shows_overdue_items_in_scope_with_filters_and_sorts(any_sanhu, any_world):
    app, world = any_sanhu, any_world
    late = make_overdue(app, world, "V111", days_ago=80, deadline="10d")  # ~70 days late
    mid = make_overdue(app, world, "V121", days_ago=40, deadline="10d", who="town_T12")
    fresh = make_overdue(app, world, "V112", days_ago=14, deadline="10d")
    other = make_overdue(app, world, "V211", days_ago=60, deadline="10d", who="town_T21")
    with app.uow() as uow:  # not overdue: a later deadline
        svc.record_finding(uow, world["town_T11"], unit_id=world.units["V111"].id,
                           description="未逾期")
    reject_times(app, world, fresh, "V112", 2)
    num = {i: item_of(app, i).number for i in (late, mid, fresh, other)}

    assert board_numbers(app, world["sup_city"]) == [num[late], num[other], num[mid], num[fresh]]
    assert board_numbers(app, world["sup_K1"]) == [num[late], num[mid], num[fresh]]
    assert board_numbers(app, world["sup_city"], unit_id=world.units["T11"].id) == \
        [num[late], num[fresh]]
    assert board_numbers(app, world["sup_city"], min_days=50) == [num[late], num[other]]
    assert board_numbers(app, world["sup_city"], min_rejections=2) == [num[fresh]]
    assert board_numbers(app, world["sup_city"], sort="rejections")[0] == num[fresh]
    assert board_numbers(app, world["sup_city"], sort="unit") == \
        [num[late], num[fresh], num[mid], num[other]]  # V111, V112, V121, V211 by code
    with app.uow() as uow:
        page = sup_board.board(uow.session, world["sup_city"], uow.today())
        row = {r["id"]: r for r in page.rows}[mid]
        today = uow.today()
        expected_workdays = uow.calendar.workdays_between(item_of(app, mid).deadline, today)
    assert row["days_overdue"] == (today - item_of(app, mid).deadline).days
    assert row["workdays_overdue"] == expected_workdays
    assert row["unit_path"] == ["县1", "乡12", "村121"]
    assert page.total == 4
    # working days: exactly the items at least that many working days late
    for n in (expected_workdays, expected_workdays + 1):
        with app.uow() as uow:
            rows = sup_board.board(uow.session, world["sup_city"], uow.today(), min_workdays=n).rows
        assert all(r["workdays_overdue"] >= n for r in rows)
        assert (mid in [r["id"] for r in rows]) == (n == expected_workdays)
    assert board_numbers(app, world["sup_city"], min_workdays=100000) == []
    assert board_numbers(app, world["sup_city"], per_page=2, page=2) == [num[mid], num[fresh]]
    with app.uow() as uow, pytest.raises(PermissionDenied):
        sup_board.board(uow.session, world["sec_V111"], uow.today())
    with app.uow() as uow, pytest.raises(NotFound):
        sup_board.board(uow.session, world["sup_K1"], uow.today(), unit_id=world.units["T21"].id)


def test_listed_only_shows_live_listings(any_sanhu, any_world, two):
    app, world = any_sanhu, any_world
    with app.uow() as uow:
        sup.place_listing(uow, two[:1], world["sup_city"], reason="r",
                          term_until=uow.today() + dt.timedelta(days=9))
    assert board_numbers(app, world["sup_city"], listed_only=True) == [
        item_of(app, two[0]).number]


def test_a_repeat_finding_is_the_same_unit_failing_the_same_standard_in_an_earlier_cycle(
        any_sanhu, any_world):
    app, world = any_sanhu, any_world
    with app.uow() as uow:
        catalog = current_catalog(uow.session)
        std, other_std = uow.session.scalars(select(Standard.id).where(
            Standard.catalog_version_id == catalog.id).order_by(Standard.id).limit(2)).all()
        q3 = open_cycle(uow, "village_quarterly", "2026Q3").cycle_id
    with app.uow() as uow:
        q4 = open_cycle(uow, "village_quarterly", "2026Q4").cycle_id
    # V111 failed ``std`` in Q3 and again in Q4: a repeat; V112 only in Q4
    make_overdue(app, world, "V111", days_ago=90, standard_id=std, cycle_id=q3)
    repeat = make_overdue(app, world, "V111", standard_id=std, cycle_id=q4)
    make_overdue(app, world, "V112", standard_id=std, cycle_id=q4)
    make_overdue(app, world, "V111", standard_id=other_std, cycle_id=q4)
    with app.uow() as uow:
        rows = sup_board.board(uow.session, world["sup_city"], uow.today()).rows
        only = sup_board.board(uow.session, world["sup_city"], uow.today(), repeat_only=True).rows
    assert [r["id"] for r in rows if r["repeat"]] == [repeat]
    assert [r["id"] for r in only] == [repeat]
    row = {r["id"]: r for r in rows}[repeat]
    assert "interview" in row["suggestions"]


def test_suggestions_follow_the_ladder_and_skip_what_was_done():
    ladder = sup_board.Ladder()
    assert sup_board.suggestions(0, 0, False, {}, ladder) == []
    assert sup_board.suggestions(1, 0, False, {}, ladder) == ["urge"]
    assert sup_board.suggestions(3, 2, False, {}, ladder) == ["urge", "notice"]
    assert sup_board.suggestions(10, 0, False, {}, ladder) == ["urge", "notice"]
    assert sup_board.suggestions(20, 0, False, {}, ladder) == ["urge", "notice", "interview"]
    assert sup_board.suggestions(2, 0, True, {}, ladder) == ["urge", "interview"]
    assert sup_board.suggestions(2, 2, True, {}, ladder) == ["urge", "notice", "interview",
                                                       "listing"]
    assert sup_board.suggestions(30, 0, False, {}, ladder) == RUNGS
    assert sup_board.suggestions(30, 0, False, {"urged": 1}, ladder) == ["notice", "interview",
                                                                   "listing"]
    assert sup_board.suggestions(30, 0, False, {"urged": 1, "interviews": 1}, ladder) == ["listing"]
    assert sup_board.suggestions(30, 0, False, {"listed": True}, ladder) == []
    assert sup_board.suggestions(5, 0, False, {}, sup_board.Ladder(urge_workdays=6)) == []


RUNGS = list(sup_board.RUNGS)


def test_the_thresholds_come_from_the_app_settings_when_stored(any_sanhu, any_world, two):
    app, world = any_sanhu, any_world
    from ledger.core.models import AppSetting
    with app.uow() as uow:
        uow.session.add(AppSetting(key="ladder_urge_workdays", value=1000))
        uow.commit()
    with app.uow() as uow:
        page = sup_board.board(uow.session, world["sup_city"], uow.today())
    assert page.thresholds.urge_workdays == 1000
    assert all("urge" not in r["suggestions"] for r in page.rows)


def test_marks_show_on_the_board_and_the_ladder_moves_up(any_sanhu, any_world):
    app, world = any_sanhu, any_world
    item_id = make_overdue(app, world, "V111", days_ago=60, deadline="10d")
    with app.uow() as uow:
        row = sup_board.board(uow.session, world["sup_city"], uow.today()).rows[0]
    assert row["suggestions"][0] == "urge" and row["marks"] == {}
    with app.uow() as uow:
        sup.urge(uow, [item_id], world["sup_city"])
    with app.uow() as uow:
        row = sup_board.board(uow.session, world["sup_city"], uow.today()).rows[0]
    assert row["marks"]["urged"] == 1 and "urge" not in row["suggestions"]


def test_the_item_records_list_what_was_done(any_sanhu, any_world, two):
    app, world = any_sanhu, any_world
    with app.uow() as uow:
        sup.urge(uow, two, world["sup_city"])
    with app.uow() as uow:
        sup.issue_notice(uow, two, world["sup_city"], title="t", body="b")
    with app.uow() as uow:
        found = sup_board.item_supervision(uow.session, world["sec_V111"], two[0])
        assert [r.kind for r in found["records"]] == ["urge"]
        assert len(found["notices"]) == 1
        notice, rows = sup_board.get_notice(uow.session, world["county_K1"], found["notices"][0].id)
        assert [r["id"] for r in rows] == two
        assert sup_board.notice_units(rows) == ["县1 › 乡11 › 村111", "县1 › 乡12 › 村121"]
        with pytest.raises(NotFound):
            sup_board.get_notice(uow.session, world["county_K2"], notice.id)
        with pytest.raises(NotFound):
            sup_board.get_record(uow.session, world["sec_V211"], found["records"][0].id)
        assert sup_board.get_record(uow.session, world["sec_V111"], found["records"][0].id)[1] == \
            two[:1]
        assert sup_board.list_notices(uow.session, world["county_K2"]) == []
        notices = sup_board.list_notices(uow.session, world["county_K1"])
        assert [n.id for n in notices] == [notice.id]


def test_bumping_versions_keeps_other_peoples_forms_honest(any_sanhu, any_world, two):
    """A page opened before a 催办 carries the old version: acting on it is a Conflict."""
    app, world = any_sanhu, any_world
    seen = item_of(app, two[0]).version
    with app.uow() as uow:
        sup.urge(uow, two[:1], world["sup_city"])
    with app.uow() as uow, pytest.raises(Conflict):
        svc.accept(uow, two[0], world["sec_V111"], measures="m", expected_version=seen)
    # the history stays a gap-free sequence
    assert [h.seq for h in history(app, two[0])] == [1, 2, 3]
