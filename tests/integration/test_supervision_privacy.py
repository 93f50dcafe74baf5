"""What a unit reads of a supervision act that also covers other units, on SQLite and PostgreSQL.

A 约谈 about items of two villages names the interviewee, the reason and the
minutes of the whole act.  Whoever sees every item of the act reads all of it;
whoever sees only some reads the act's kind, dates and their own items, and
the history entries the act wrote on their items keep its text to themselves.
"""

from __future__ import annotations

from sqlalchemy import select
from test_supervision import make_overdue

from ledger.core.models import ItemEvent, SupervisionRecord
from ledger.supervision import acts as sup
from ledger.supervision import board as sup_board

#: an interview of village V121's secretary about items of V111 and V121
ACROSS = dict(held_at="2026-11-20T09:30", place="乡12会议室", interviewer="李组长",
              interviewee="赵书记", interviewee_post="村121党支部书记",
              reason="村121整改逾期且多次退回", minutes="纪要:村121表态,村111未到会。",
              outcome="村121表态一周内完成", follow_up_deadline="2026-12-31")


def events(app, item_id: int) -> list[ItemEvent]:
    with app.uow() as uow:
        return list(uow.session.scalars(select(ItemEvent).where(ItemEvent.item_id == item_id)
                                        .order_by(ItemEvent.seq)))


def test_a_village_reads_only_the_dates_and_its_own_items_of_an_act_over_two_villages(
        any_sanhu, any_world):
    app, world = any_sanhu, any_world
    a, b = make_overdue(app, world, "V111"), make_overdue(app, world, "V121", who="town_T12")
    with app.uow() as uow:
        record_id = sup.record_interview(uow, [a, b], world["sup_K1"], **ACROSS).record_id
    with app.uow() as uow:
        s = uow.session
        mine = sup_board.record_view(s, world["sec_V111"], record_id)
        assert mine.item_ids == [a] and not mine.complete
        assert mine.details == {"held_at": "2026-11-20T09:30", "follow_up_deadline": "2026-12-31"}
        # the township of one of the two villages is in the same position
        assert not sup_board.record_view(s, world["town_T11"], record_id).complete
        full = sup_board.record_view(s, world["sup_K1"], record_id)
        assert full.item_ids == [a, b] and full.complete
        assert full.details == s.get(SupervisionRecord, record_id).details
        assert sup_board.record_view(s, world["county_K1"], record_id).complete
        # the history entry the act wrote on A keeps its text from A's people
        entry = events(app, a)[-1]
        assert entry.event == "interview" and "赵书记" in entry.note
        assert sup_board.withheld_notes(s, world["sec_V111"], events(app, a)) == {entry.id}
        assert sup_board.withheld_notes(s, world["sup_K1"], events(app, a)) == set()
        assert sup_board.withheld_notes(s, world["sec_V121"], events(app, b)) == {
            events(app, b)[-1].id}


def test_an_act_on_one_village_is_read_whole_by_that_village(any_sanhu, any_world):
    app, world = any_sanhu, any_world
    a1, a2 = make_overdue(app, world, "V111"), make_overdue(app, world, "V111")
    with app.uow() as uow:
        record_id = sup.record_interview(uow, [a1, a2], world["sup_K1"], **ACROSS).record_id
    with app.uow() as uow:
        view = sup_board.record_view(uow.session, world["sec_V111"], record_id)
        assert view.complete and view.details["minutes"] == ACROSS["minutes"]
        assert sup_board.withheld_notes(uow.session, world["sec_V111"], events(app, a1)) == set()


def test_replies_and_lifting_notes_are_withheld_too_but_urges_and_notices_are_not(
        any_sanhu, any_world):
    app, world = any_sanhu, any_world
    a, b = make_overdue(app, world, "V111"), make_overdue(app, world, "V121", who="town_T12")
    with app.uow() as uow:
        inquiry = sup.record_inquiry(uow, [a, b], world["sup_K1"],
                                     question="村121为何逾期").record_id
    with app.uow() as uow:
        sup.record_inquiry_reply(uow, inquiry, world["sup_K1"], reply="村121资金未到位",
                                 replied_by="乡12党委")
    with app.uow() as uow:
        sup.urge(uow, [a, b], world["sup_K1"], note="请两村本周完成")
    with app.uow() as uow:
        sup.issue_notice(uow, [a, b], world["sup_K1"], title="逾期通报", body="两村逾期")
    history = events(app, a)
    assert [h.event for h in history][-4:] == ["inquiry", "inquiry_reply", "urge", "notice"]
    with app.uow() as uow:
        hidden = sup_board.withheld_notes(uow.session, world["sec_V111"], history)
        view = sup_board.record_view(uow.session, world["sec_V111"], inquiry)
    # the urge went to every responsible person's inbox and the notice is published
    assert hidden == {history[-4].id, history[-3].id}
    assert "question" not in view.details and "reply" not in view.details
    assert view.details["replied_at"]
