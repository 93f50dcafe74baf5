"""Filling, scoring and confirming an observation's record, on SQLite and PostgreSQL.

The checklist lines are saved one by one and version-checked per line; a
submitted or confirmed record refuses changes; confirmation freezes the score
and turns the failed lines into ledger items once, with their photos.
"""

from __future__ import annotations

import datetime as dt
import io
import threading

import pytest
import time_machine
from observation_helpers import fill, observation_of, standard_ids, start_and_fill
from samples import make_png
from sqlalchemy import func, select

from ledger.core.errors import (
    Conflict,
    EvidenceRejected,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from ledger.core.models import (
    Cycle,
    Evidence,
    Item,
    Liaison,
    Observation,
    ObservationLine,
    ObservationParticipant,
    ObservationSection,
)
from ledger.items import services as items_svc
from ledger.observations import record, sheet
from ledger.observations import services as obs_svc
from ledger.supervision.board import board, repeat_clause


@pytest.fixture
def obs(any_sanhu, any_world) -> int:
    """V111's quarterly observation, started by township T11."""
    oid = observation_of(any_sanhu, any_world, "village_quarterly", "2026Q4", "V111")
    with any_sanhu.uow() as uow:
        obs_svc.start(uow, oid, any_world["town_T11"])
    return oid


def line(sanhu, oid: int, sid: int) -> ObservationLine:
    with sanhu.uow() as uow:
        return uow.session.scalar(select(ObservationLine).where(
            ObservationLine.observation_id == oid, ObservationLine.standard_id == sid))


def test_starting_lays_out_the_42_basic_lines_the_sections_and_the_participants(
        any_sanhu, any_world, obs):
    ids = standard_ids(any_sanhu, obs)
    assert len(ids) == 42 and all(k.startswith("basic:") for k in ids)
    with any_sanhu.uow() as uow:
        names = set(uow.session.scalars(select(ObservationSection.name).where(
            ObservationSection.observation_id == obs)))
        people = uow.session.scalars(select(ObservationParticipant.name).where(
            ObservationParticipant.observation_id == obs)).all()
        view = sheet.sheet_of(uow, uow.session.get(Observation, obs))
    assert names == set(record.SECTIONS)
    assert people == ["town_T11"]
    assert view.open == 42 and len(view.groups) == 8


def test_demonstration_candidates_get_the_23_extra_lines(any_sanhu, any_world, obs):
    with any_sanhu.uow() as uow:
        record.save_settings(uow, obs, any_world["town_T11"], mode="focused", demonstration=True,
                             theme="主题党日")
    ids = standard_ids(any_sanhu, obs)
    assert len(ids) == 65 and sum(k.startswith("demonstration:") for k in ids) == 23
    with any_sanhu.uow() as uow:
        assert uow.session.get(Observation, obs).theme == "主题党日"


def test_a_line_is_saved_on_its_own_and_a_stale_write_gets_the_fresh_value(
        any_sanhu, any_world, obs):
    town = any_world["town_T11"]
    sid = standard_ids(any_sanhu, obs)["basic:3"]
    with any_sanhu.uow() as uow:
        saved = record.save_line(uow, obs, sid, town, result="fail", note="未建立党员档案",
                                 deduction="4", expected_version=1)
    assert saved.version == 2
    with any_sanhu.uow() as uow, pytest.raises(Conflict) as stale:
        record.save_line(uow, obs, sid, town, result="conform", expected_version=1)
    assert stale.value.details["current"]["note"] == "未建立党员档案"
    assert stale.value.details["current"]["version"] == 2
    kept = line(any_sanhu, obs, sid)
    assert (kept.result, kept.deduction, kept.version) == ("fail", 4.0, 2)


def test_two_observers_saving_different_lines_at_once_both_keep_theirs(any_sanhu, any_world,
                                                                        obs):
    ids = standard_ids(any_sanhu, obs)
    with any_sanhu.uow() as uow:
        uow.session.add(Liaison(user_id=any_world["county_K1"].id,
                                township_id=any_world.units["T11"].id,
                                assigned_by_id=any_world["county_K1"].id))
        uow.commit()
    barrier, errors = threading.Barrier(2), []

    def save(actor, key, note):
        try:
            barrier.wait()
            with any_sanhu.uow() as uow:
                record.save_line(uow, obs, ids[key], actor, result="fail", note=note,
                                 expected_version=1)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=save, args=(any_world["town_T11"], "basic:1", "甲")),
               threading.Thread(target=save, args=(any_world["county_K1"], "basic:2", "乙"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert line(any_sanhu, obs, ids["basic:1"]).note == "甲"
    assert line(any_sanhu, obs, ids["basic:2"]).note == "乙"


def test_the_same_line_saved_twice_from_the_same_version_keeps_one_and_refuses_the_other(
        any_sanhu, any_world, obs):
    town = any_world["town_T11"]
    sid = standard_ids(any_sanhu, obs)["basic:5"]
    barrier, outcomes = threading.Barrier(2), []

    def save(note):
        barrier.wait()
        try:
            with any_sanhu.uow() as uow:
                record.save_line(uow, obs, sid, town, result="partial", note=note,
                                 expected_version=1)
            outcomes.append("saved")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=save, args=(n,)) for n in ("甲", "乙")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "saved"]
    assert line(any_sanhu, obs, sid).version == 2


def test_bad_input_is_refused_beside_the_field_and_nothing_is_saved(any_sanhu, any_world, obs):
    town = any_world["town_T11"]
    sid = standard_ids(any_sanhu, obs)["basic:1"]
    for kwargs, field in (({"result": "fail", "deduction": "-1"}, "deduction"),
                          ({"result": "fail", "deduction": "abc"}, "deduction"),
                          ({"result": "fail", "deduction": "101"}, "deduction"),
                          ({"result": "maybe"}, "result")):
        with any_sanhu.uow() as uow, pytest.raises(ValidationError) as bad:
            record.save_line(uow, obs, sid, town, **kwargs)
        assert field in bad.value.fields
    with any_sanhu.uow() as uow, pytest.raises(ValidationError) as bad:
        record.save_line(uow, obs, 10**6, town, result="fail")
    assert bad.value.fields == {"standard_id": "not in the checklist"}
    with any_sanhu.uow() as uow:
        pid = uow.session.scalar(select(ObservationParticipant.id).where(
            ObservationParticipant.observation_id == obs))
    for score in ("-5", "100.5", "九十", "nan"):
        with any_sanhu.uow() as uow, pytest.raises(ValidationError) as bad:
            record.save_evaluation(uow, obs, pid, town, score=score)
        assert "score" in bad.value.fields
    with any_sanhu.uow() as uow, pytest.raises(EvidenceRejected):
        record.attach(uow, obs, town, data=io.BytesIO(b"<html>x</html>"),
                      filename="a.html", standard_id=sid)
    assert line(any_sanhu, obs, sid).version == 1
    with any_sanhu.uow() as uow:
        assert uow.session.get(ObservationParticipant, pid).score is None


def test_only_the_observers_and_liaisons_fill_the_record(any_sanhu, any_world, obs):
    sid = standard_ids(any_sanhu, obs)["basic:1"]
    for name in ("county_K1", "sup_K1", "city"):
        with any_sanhu.uow() as uow, pytest.raises(PermissionDenied):
            record.save_line(uow, obs, sid, any_world[name], result="fail")
    for name in ("town_T12", "county_K2", "sec_V111"):
        with any_sanhu.uow() as uow, pytest.raises(NotFound):
            record.save_line(uow, obs, sid, any_world[name], result="fail")


def test_submit_needs_every_line_answered_and_an_evaluation(any_sanhu, any_world, obs):
    town = any_world["town_T11"]
    with any_sanhu.uow() as uow, pytest.raises(InvalidTransition, match="42 checklist lines"):
        obs_svc.submit(uow, obs, town)
    with any_sanhu.uow() as uow:
        assert record.mark_rest(uow, obs, town) == 42
    with any_sanhu.uow() as uow, pytest.raises(InvalidTransition, match="evaluation"):
        obs_svc.submit(uow, obs, town)


def test_a_submitted_record_refuses_changes(any_sanhu, any_world, obs):
    town = any_world["town_T11"]
    fill(any_sanhu, obs, town)
    with any_sanhu.uow() as uow:
        obs_svc.submit(uow, obs, town)
    sid = standard_ids(any_sanhu, obs)["basic:1"]
    with any_sanhu.uow() as uow, pytest.raises(InvalidTransition):
        record.save_line(uow, obs, sid, town, result="fail")
    with any_sanhu.uow() as uow, pytest.raises(InvalidTransition):
        record.save_section(uow, obs, "listen", town, body="x")


def test_confirmation_freezes_the_score_and_records_each_failed_line_once(
        any_sanhu, any_world, obs):
    town, county = any_world["town_T11"], any_world["county_K1"]
    ids = standard_ids(any_sanhu, obs)
    with any_sanhu.uow() as uow:
        record.attach(uow, obs, town, data=io.BytesIO(make_png(10)),
                      filename="活动室.png", standard_id=ids["basic:2"])
    fill(any_sanhu, obs, town, fails={"basic:2": "活动室未挂牌", "basic:9": "无议事记录"},
         score=80)
    with any_sanhu.uow() as uow:
        obs_svc.submit(uow, obs, town)
    with any_sanhu.uow() as uow:
        result = obs_svc.confirm(uow, obs, town)
    assert len(result.findings) == 2
    with any_sanhu.uow() as uow:
        o = uow.session.get(Observation, obs)
        # 100 - 2 × 3 = 94 for the checklist, 80 for the evaluation, 70/30
        assert (o.score, o.score_breakdown["checklist"]) == (89.8, 94.0)
        rows = uow.session.execute(select(Item.number, Item.description, Item.source,
                                          Item.cycle_id, Item.state)
                                   .where(Item.observation_id == obs).order_by(Item.id)).all()
        assert [r.description.split(":")[1] for r in rows] == ["活动室未挂牌", "无议事记录"]
        assert {(r.source, r.state) for r in rows} == {("observation", "found")}
        assert rows[0].cycle_id == o.cycle_id
        assert uow.session.scalar(select(func.count()).select_from(Evidence).join(
            Item, Item.id == Evidence.item_id).where(Item.observation_id == obs)) == 1
    with any_sanhu.uow() as uow:
        obs_svc.reopen(uow, obs, county, reason="复核扣分")
    with any_sanhu.uow() as uow:
        assert uow.session.get(Observation, obs).score is None
    with any_sanhu.uow() as uow:
        obs_svc.submit(uow, obs, town)
    with any_sanhu.uow() as uow:
        assert obs_svc.confirm(uow, obs, town).findings == ()
    with any_sanhu.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Item).where(
            Item.observation_id == obs)) == 2


def test_a_problem_added_by_hand_for_a_standard_is_not_recorded_again(any_sanhu, any_world,
                                                                      obs):
    town = any_world["town_T11"]
    ids = standard_ids(any_sanhu, obs)
    with any_sanhu.uow() as uow:
        items_svc.record_finding(uow, town, unit_id=any_world.units["V111"].id,
                                 description="现场发现:党员活动室堆放杂物",
                                 standard_id=ids["basic:2"], observation_id=obs)
    with any_sanhu.uow() as uow, pytest.raises(ValidationError, match="already has item"):
        items_svc.record_finding(uow, town, unit_id=any_world.units["V111"].id,
                                 description="again", standard_id=ids["basic:2"],
                                 observation_id=obs)
    fill(any_sanhu, obs, town, fails={"basic:2": "活动室杂乱"})
    for step in (obs_svc.submit, obs_svc.confirm):
        with any_sanhu.uow() as uow:
            step(uow, obs, town)
    with any_sanhu.uow() as uow:
        assert uow.session.scalars(select(Item.description).where(
            Item.observation_id == obs)).all() == ["现场发现:党员活动室堆放杂物"]


def test_findings_are_assigned_at_once_when_the_cycle_sets_a_deadline(any_sanhu, any_world,
                                                                      obs):
    town = any_world["town_T11"]
    with any_sanhu.uow() as uow:
        o = uow.session.get(Observation, obs)
        cycle = uow.session.get(Cycle, o.cycle_id)
        cycle.finding_deadline_workdays, cycle.findings_include_partial = 20, True
        uow.commit()
    ids = standard_ids(any_sanhu, obs)
    with any_sanhu.uow() as uow:
        record.save_line(uow, obs, ids["basic:4"], town, result="partial", note="基本完成")
    fill(any_sanhu, obs, town, fails={"basic:1": "未公开"})
    for step in (obs_svc.submit, obs_svc.confirm):
        with any_sanhu.uow() as uow:
            step(uow, obs, town)
    with any_sanhu.uow() as uow:
        rows = uow.session.execute(select(Item.state, Item.responsible_user_id, Item.severity,
                                          Item.deadline).where(Item.observation_id == obs)
                                   .order_by(Item.standard_id)).all()
    assert [(r.state, r.severity) for r in rows] == [("assigned", "normal"),
                                                     ("assigned", "minor")]
    assert {r.responsible_user_id for r in rows} == {any_world["sec_V111"].id}
    assert all(r.deadline is not None for r in rows)


def test_the_next_observation_shows_last_times_failures_and_marks_repeats(any_sanhu, any_world):
    town = any_world["town_T11"]
    first = observation_of(any_sanhu, any_world, "village_quarterly", "2026Q3", "V111")
    start_and_fill(any_sanhu, first, town, fails={"basic:6": "支部书记未述职"})
    for step in (obs_svc.submit, obs_svc.confirm):
        with any_sanhu.uow() as uow:
            step(uow, first, town)
    second = observation_of(any_sanhu, any_world, "village_quarterly", "2026Q4", "V111")
    with any_sanhu.uow() as uow:
        obs_svc.start(uow, second, town)
    with any_sanhu.uow() as uow:
        record.save_settings(uow, second, town, mode="pushing")
    ids = standard_ids(any_sanhu, second)
    with any_sanhu.uow() as uow:
        record.save_line(uow, second, ids["basic:6"], town, result="fail", note="仍未述职")
    with any_sanhu.uow() as uow:
        view = sheet.sheet_of(uow, uow.session.get(Observation, second))
    assert view.previous.period == "2026Q3"
    assert [ln.standard_key for ln in view.previous.failed] == ["basic:6"]
    assert list(view.previous.items.values())[0]["status"] == "found"
    # pushing: last time's failures come first, and the failed-again line is a repeat
    assert view.groups[0].key == "previous"
    assert [(ln.standard_key, ln.repeat) for ln in view.groups[0].lines] == [("basic:6", True)]


def test_a_selective_observation_counts_only_its_categories(any_sanhu, any_world, obs):
    town = any_world["town_T11"]
    with any_sanhu.uow() as uow, pytest.raises(ValidationError):
        record.save_settings(uow, obs, town, mode="selective", categories=[])
    with any_sanhu.uow() as uow:
        record.save_settings(uow, obs, town, mode="selective", categories=["basic:1"])
    with any_sanhu.uow() as uow:
        view = sheet.sheet_of(uow, uow.session.get(Observation, obs))
    counted = [ln for ln in view.lines if ln.counted]
    assert 0 < len(counted) < 42 and {ln.category_key for ln in counted} == {"basic:1"}
    assert view.open == len(counted)


def test_a_save_racing_the_submission_is_either_in_the_record_or_refused(any_sanhu, any_world):
    """Ten rounds of a line save and a submission let loose at once: the submitted
    record never changes afterwards, and a refused save changed nothing."""
    town = any_world["town_T11"]
    for round_ in range(10):
        oid = observation_of(any_sanhu, any_world, "village_quarterly", f"20{30 + round_}Q1",
                             "V111")
        with any_sanhu.uow() as uow:
            obs_svc.start(uow, oid, town)
        fill(any_sanhu, oid, town)
        sid = standard_ids(any_sanhu, oid)["basic:7"]
        outcome = _race_save_and_submit(any_sanhu, town, oid, sid)
        final = line(any_sanhu, oid, sid)
        assert final.result == ("fail" if outcome["save"] == "saved" else "conform")
        # what was read right after the submission is what the record keeps
        assert outcome["submitted_line"] == final.result
        with any_sanhu.uow() as uow:
            assert uow.session.get(Observation, oid).status == "submitted"


def test_a_standard_failed_again_is_a_repeat_finding_on_the_overdue_board(any_sanhu,
                                                                          any_world):
    town = any_world["town_T11"]
    items = []
    for period in ("2026Q3", "2026Q4"):
        oid = observation_of(any_sanhu, any_world, "village_quarterly", period, "V111")
        with any_sanhu.uow() as uow:
            o = uow.session.get(Observation, oid)
            uow.session.get(Cycle, o.cycle_id).finding_deadline_workdays = 5
            uow.commit()
        start_and_fill(any_sanhu, oid, town, fails={"basic:6": "支部书记未述职"})
        with any_sanhu.uow() as uow:
            obs_svc.submit(uow, oid, town)
        with any_sanhu.uow() as uow:
            items += obs_svc.confirm(uow, oid, town).findings
    with any_sanhu.uow() as uow:
        assert uow.session.scalars(select(Item.id).where(repeat_clause())).all() == [items[1]]
        deadline = uow.session.get(Item, items[1]).deadline
    later = dt.datetime.combine(deadline + dt.timedelta(days=3), dt.time(12), tzinfo=dt.UTC)
    with time_machine.travel(later, tick=False), any_sanhu.uow() as uow:
        page_ = board(uow.session, any_world["sup_K1"], uow.today(), repeat_only=True)
    assert [row["id"] for row in page_.rows] == [items[1]]


def _race_save_and_submit(sanhu, town, oid: int, sid: int) -> dict:
    barrier, outcome = threading.Barrier(2), {}

    def save():
        barrier.wait()
        try:
            with sanhu.uow() as uow:
                record.save_line(uow, oid, sid, town, result="fail", note="抢在提交前")
            outcome["save"] = "saved"
        except InvalidTransition:
            outcome["save"] = "locked"

    def submit():
        barrier.wait()
        with sanhu.uow() as uow:
            obs_svc.submit(uow, oid, town)
        outcome["submitted_line"] = line(sanhu, oid, sid).result

    threads = [threading.Thread(target=save), threading.Thread(target=submit)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcome
