"""Every workflow event against every person of the world: allowed, refused, or not even seen.

The expected outcomes are written out below as literal tables taken from SPEC §7
(and the design choices recorded in ``ledger/items/workflow.py``), NOT derived from
``ledger.items.workflow.RULES``, so a wrong rule is caught here.

Every item is built fresh through the real services on village V111 (township
T11, county K1), and every call goes through ``ledger.items.services.EVENT_SERVICES``
on a real SQLite database.

The world of ``tests/conftest.py`` (19 users, argon2-hashed passwords) takes a few
seconds to build, so this module builds it once (``build_world`` from the
conftest, on a copy of the migrated template) and overrides the ``sanhu`` and
``world`` fixtures with that shared instance.  Tests never share an item: each
one records its own, so they stay independent.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
import time_machine
from sqlalchemy import func, select

from ledger.core.errors import (
    DomainError,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from ledger.core.models import Evidence, Item, ItemEvent, User
from ledger.items import services as svc
from ledger.items.workflow import allowed_events

# --- the world, by name (literal, so parametrisation works at collection) -----------

ALL_ACTORS = (
    "city", "sup_city", "admin",
    "county_K1", "sup_K1", "county_K2", "sup_K2",
    "town_T11", "town_T12", "town_T21", "town_T22",
    "sec_V111", "sec_V112", "sec_V121", "sec_V122",
    "sec_V211", "sec_V212", "sec_V221", "sec_V222",
)

#: who sees an item of village V111 (its subtree chain up to the city)
SCOPE_OF_V111 = frozenset({"city", "sup_city", "admin", "county_K1", "sup_K1", "town_T11",
                           "sec_V111"})

# --- SPEC §7, written out by hand -----------------------------------------------------
#
# event              from → to                          who (for an item of village V111)
# assign             found → assigned                   county or township staff (above V111)
# reassign           assigned → assigned                county staff
# accept             assigned → rectifying              that village's secretary
# report_progress    rectifying → rectifying            village secretary (own village)
# submit             rectifying → submitted             village secretary (own village)
# verify             submitted → verified               township or county staff, not submitter
# reject             submitted → rectifying             same as verify
# close              verified → closed                  county staff
# reopen             closed → rectifying                county staff or supervisor (any level)
# request_extension  assigned|rectifying (unchanged)    the secretary, before the deadline
# approve/deny_ext.  assigned|rectifying (unchanged)    county staff
# dismiss            found → closed                     county staff
# record (finding)   → found                            township/county staff (观摩) and
#                                                       supervisors (督查暗访), against a unit below

ALLOWED: dict[str, frozenset[str]] = {
    "record_finding": frozenset({"town_T11", "county_K1", "sup_K1", "sup_city"}),
    "assign": frozenset({"town_T11", "county_K1"}),
    "reassign": frozenset({"county_K1"}),
    "accept": frozenset({"sec_V111"}),
    "report_progress": frozenset({"sec_V111"}),
    "submit": frozenset({"sec_V111"}),
    "verify": frozenset({"town_T11", "county_K1"}),
    "reject": frozenset({"town_T11", "county_K1"}),
    "close": frozenset({"county_K1"}),
    "reopen": frozenset({"county_K1", "sup_K1", "sup_city"}),
    "request_extension": frozenset({"sec_V111"}),
    "approve_extension": frozenset({"county_K1"}),
    "deny_extension": frozenset({"county_K1"}),
    "dismiss": frozenset({"county_K1"}),
}

#: roles (by user-name prefix) that may record findings at all
RECORDING_PREFIXES = ("town_", "county_", "sup_")

#: the statuses (as people see them) each event starts from
SOURCE: dict[str, frozenset[str]] = {
    "assign": frozenset({"found"}),
    "reassign": frozenset({"assigned"}),
    "accept": frozenset({"assigned"}),
    "report_progress": frozenset({"rectifying"}),
    "submit": frozenset({"rectifying"}),
    "verify": frozenset({"submitted"}),
    "reject": frozenset({"submitted"}),
    "close": frozenset({"verified"}),
    "reopen": frozenset({"closed"}),
    "request_extension": frozenset({"assigned", "rectifying"}),
    "approve_extension": frozenset({"assigned", "rectifying"}),
    "deny_extension": frozenset({"assigned", "rectifying"}),
    "dismiss": frozenset({"found"}),
}
EVENTS = tuple(SOURCE)

#: the status after a successful event; None: unchanged
DEST: dict[str, str | None] = {
    "assign": "assigned", "reassign": "assigned", "accept": "rectifying",
    "report_progress": "rectifying", "submit": "submitted", "verify": "verified",
    "reject": "rectifying", "close": "closed", "reopen": "rectifying",
    "request_extension": None, "approve_extension": None, "deny_extension": None,
    "dismiss": "closed",
}

#: the pre-state each matrix row builds (``+ext``: with a pending extension request)
MATRIX_ROWS = (
    ("record_finding", None),
    ("assign", "found"),
    ("reassign", "assigned"),
    ("accept", "assigned"),
    ("report_progress", "rectifying"),
    ("submit", "rectifying"),
    ("verify", "submitted"),
    ("reject", "submitted"),
    ("close", "verified"),
    ("reopen", "closed"),
    ("request_extension", "assigned"),
    ("request_extension", "rectifying"),
    ("approve_extension", "assigned+ext"),
    ("approve_extension", "rectifying+ext"),
    ("deny_extension", "assigned+ext"),
    ("deny_extension", "rectifying+ext"),
    ("dismiss", "found"),
)
MULTI_SOURCE = {"request_extension", "approve_extension", "deny_extension"}

ASSIGN_DAYS = 30
EXTENSION_DAYS = 60
PDF = b"%PDF-1.4\n%%EOF\n"


def evidence() -> list[svc.Upload]:
    return [svc.Upload(PDF, "a.pdf")]


# --- the shared world ------------------------------------------------------------------


@pytest.fixture(scope="module")
def _shared(sqlite_template, tmp_path_factory):
    from conftest import build_world, make_sqlite

    app = make_sqlite(sqlite_template, tmp_path_factory.mktemp("matrix"))
    world = build_world(app)
    assert set(world.actors) == set(ALL_ACTORS)
    yield app, world
    app.dispose()


@pytest.fixture
def sanhu(_shared):
    return _shared[0]


@pytest.fixture
def world(_shared):
    return _shared[1]


@dataclass
class Snap:
    """An item as the database holds it, with its history."""

    item: Item
    history: list[ItemEvent]
    evidence_count: int

    @property
    def version(self) -> int:
        return self.item.version

    @property
    def status(self) -> str:
        return self.item.status


class Ledger:
    """Drives items through the real services of the shared world."""

    def __init__(self, app, world):
        self.app, self.world = app, world

    def today(self) -> dt.date:
        return self.app.uow().today()

    def inputs(self, event: str) -> dict:
        w, today = self.world, self.today()
        return {
            "assign": dict(responsible_user_id=w["sec_V111"].id, category="deadline",
                           deadline=today + dt.timedelta(days=ASSIGN_DAYS)),
            "reassign": dict(responsible_user_id=w["sec_V112"].id,
                             unit_id=w.units["V112"].id, reason="责任单位调整"),
            "accept": dict(measures="制作制度牌并上墙"),
            "report_progress": dict(note="已联系广告公司制作"),
            "submit": dict(note="已上墙", uploads=evidence()),
            "verify": dict(method="实地查看", note="制度已上墙"),
            "reject": dict(reason="照片看不清"),
            "close": {},
            "reopen": dict(reason="回头看发现制度牌已拆除"),
            "request_extension": dict(deadline=today + dt.timedelta(days=EXTENSION_DAYS),
                                      reason="制作周期长"),
            "approve_extension": {},
            "deny_extension": dict(reason="理由不充分"),
            "dismiss": dict(reason="与另一条重复", kind="duplicate"),
        }[event]

    def run(self, event: str, who: str, item_id: int, **overrides) -> svc.ItemResult:
        kwargs = {**self.inputs(event), **overrides}
        with self.app.uow() as uow:
            return svc.EVENT_SERVICES[event](uow, item_id, self.world[who], **kwargs)

    def record(self, who: str = "town_T11", unit: str = "V111") -> svc.ItemResult:
        with self.app.uow() as uow:
            return svc.record_finding(uow, self.world[who], unit_id=self.world.units[unit].id,
                                      description="制度未上墙")

    def make(self, status: str) -> int:
        """A fresh item of V111 in ``status`` (``+ext``: with a pending extension request)."""
        status, _, ext = status.partition("+")
        item_id = self.record().id
        if status == "dismissed":
            self.run("dismiss", "county_K1", item_id)
            return item_id
        path = [("assigned", "assign", "town_T11"), ("rectifying", "accept", "sec_V111"),
                ("submitted", "submit", "sec_V111"), ("verified", "verify", "town_T11"),
                ("closed", "close", "county_K1")]
        reached = "found"
        for target, event, who in path:
            if reached == status:
                break
            reached = self.run(event, who, item_id).status
            assert reached == target
        assert reached == status
        if ext:
            self.run("request_extension", "sec_V111", item_id)
        return item_id

    def snap(self, item_id: int) -> Snap:
        with self.app.uow() as uow:
            s = uow.session
            item = s.get(Item, item_id)
            history = list(s.scalars(select(ItemEvent).where(ItemEvent.item_id == item_id)
                                     .order_by(ItemEvent.seq)))
            n_evidence = s.scalar(select(func.count()).select_from(Evidence)
                                  .where(Evidence.item_id == item_id))
        return Snap(item, history, n_evidence)


@pytest.fixture
def ledger(sanhu, world) -> Ledger:
    return Ledger(sanhu, world)


def expected_outcome(event: str, who: str) -> type[DomainError] | None:
    """None: the call succeeds; otherwise the error the SPEC tables call for."""
    if who in ALLOWED[event]:
        return None
    if event == "record_finding":
        # a role that may never record is refused whatever the unit (nothing leaks);
        # a recording role outside its area does not see the unit at all
        if who.startswith(RECORDING_PREFIXES) and who not in SCOPE_OF_V111:
            return NotFound
        return PermissionDenied
    return NotFound if who not in SCOPE_OF_V111 else PermissionDenied


def assert_effect(event: str, before: Snap, after: Snap, who: str, ledger: Ledger) -> None:
    """The event-specific fields a successful event must leave behind."""
    item, w, today = after.item, ledger.world, ledger.today()
    if event == "assign":
        assert item.responsible_user_id == w["sec_V111"].id
        assert item.category == "deadline"
        assert item.deadline == today + dt.timedelta(days=ASSIGN_DAYS)
    elif event == "reassign":
        assert item.unit_id == w.units["V112"].id and item.village_id == w.units["V112"].id
        assert item.responsible_user_id == w["sec_V112"].id
    elif event == "accept":
        assert item.measures == "制作制度牌并上墙"
    elif event == "submit":
        assert item.submitted and item.submitted_by_id == w[who].id
        assert after.evidence_count == before.evidence_count + 1
    elif event == "verify":
        assert item.verifier_id == w[who].id and item.verified_at is not None
    elif event == "reject":
        assert item.rejection_count == before.item.rejection_count + 1 and not item.submitted
    elif event == "close":
        assert item.closed_at is not None and item.resolution == "rectified"
    elif event == "reopen":
        assert item.closed_at is None and item.resolution is None and not item.submitted
    elif event == "request_extension":
        assert item.pending_extension["deadline"] == (
            today + dt.timedelta(days=EXTENSION_DAYS)).isoformat()
        assert item.deadline == before.item.deadline
    elif event == "approve_extension":
        assert item.pending_extension is None and item.extension_count == 1
        assert item.deadline == today + dt.timedelta(days=EXTENSION_DAYS)
    elif event == "deny_extension":
        assert item.pending_extension is None and item.extension_count == 0
        assert item.deadline == before.item.deadline
    elif event == "dismiss":
        assert item.resolution == "dismissed" and item.closed_at is not None


def assert_unchanged(before: Snap, after: Snap) -> None:
    assert after.version == before.version
    assert after.status == before.status
    assert [h.seq for h in after.history] == [h.seq for h in before.history]
    assert after.evidence_count == before.evidence_count
    assert after.item.pending_extension == before.item.pending_extension
    assert after.item.deadline == before.item.deadline


# --- the matrix ------------------------------------------------------------------------


def _matrix_params():
    for event, state in MATRIX_ROWS:
        label = f"{event}@{state.replace('+ext', '-with-request')}" if event in MULTI_SOURCE \
            else event
        for who in ALL_ACTORS:
            yield pytest.param(event, state, who, id=f"{label}-by-{who}")


@pytest.mark.parametrize(("event", "state", "who"), list(_matrix_params()))
def test_each_event_succeeds_exactly_for_the_people_spec_allows(ledger, world, event, state,
                                                                 who):
    expected = expected_outcome(event, who)
    if event == "record_finding":
        with ledger.app.uow() as uow:
            n_before = uow.session.scalar(select(func.count()).select_from(Item))
        if expected is None:
            result = ledger.record(who)
            after = ledger.snap(result.id)
            assert result.status == "found" and result.version == 1
            assert [(h.seq, h.event, h.from_status, h.to_status, h.actor_id)
                    for h in after.history] == [(1, "record", None, "found", world[who].id)]
            assert after.item.created_by_id == world[who].id
        else:
            with pytest.raises(expected):
                ledger.record(who)
            with ledger.app.uow() as uow:
                assert uow.session.scalar(select(func.count()).select_from(Item)) == n_before
        return

    item_id = ledger.make(state)
    before = ledger.snap(item_id)
    if expected is None:
        result = ledger.run(event, who, item_id)
        after = ledger.snap(item_id)
        to = DEST[event] or before.status
        assert result.status == to == after.status
        assert result.version == after.version == before.version + 1
        new = after.history[len(before.history):]
        assert [(h.seq, h.event, h.from_status, h.to_status, h.actor_id, h.actor_role)
                for h in new] == [(before.version + 1, event, before.status, to, world[who].id,
                                   world[who].role)]
        assert_effect(event, before, after, who, ledger)
    else:
        with pytest.raises(expected):
            ledger.run(event, who, item_id)
        assert_unchanged(before, ledger.snap(item_id))


# --- allowed_events agrees with what actually succeeds ---------------------------------

CROSS_CHECK_STATES = ("found", "assigned", "assigned+ext", "rectifying", "rectifying+ext",
                      "submitted", "verified", "closed", "dismissed")


@pytest.mark.parametrize("state", CROSS_CHECK_STATES)
def test_allowed_events_lists_exactly_the_events_that_succeed(ledger, world, state):
    item_id = ledger.make(state)
    for who in ALL_ACTORS:
        actor = world[who]
        with ledger.app.uow() as uow:
            offered = set(allowed_events(uow.session.get(Item, item_id), actor, uow.context()))
        if who not in SCOPE_OF_V111:
            assert offered == set(), who
            continue
        succeeded = set()
        for event in EVENTS:
            try:
                ledger.run(event, who, item_id)
            except DomainError:
                continue
            succeeded.add(event)
            item_id = ledger.make(state)  # the success changed it: start again
        assert offered == succeeded, who
        # and the independent SPEC tables agree with both
        status = ledger.snap(item_id).status
        spec = {e for e in EVENTS if who in ALLOWED[e] and status in SOURCE[e]}
        if state.endswith("+ext"):
            spec.discard("request_extension")
        elif status in ("assigned", "rectifying"):
            spec -= {"approve_extension", "deny_extension"}
        if state == "dismissed":
            spec.discard("reopen")
        assert offered == spec, who


# --- wrong state -----------------------------------------------------------------------

#: someone the SPEC allows to fire each event on a V111 item
DOER = {
    "assign": "county_K1", "reassign": "county_K1", "accept": "sec_V111",
    "report_progress": "sec_V111", "submit": "sec_V111", "verify": "county_K1",
    "reject": "county_K1", "close": "county_K1", "reopen": "county_K1",
    "request_extension": "sec_V111", "approve_extension": "county_K1",
    "deny_extension": "county_K1", "dismiss": "county_K1",
}
STATUSES = ("found", "assigned", "rectifying", "submitted", "verified", "closed")


def _wrong_state_params():
    for event in EVENTS:
        for status in STATUSES:
            if status not in SOURCE[event]:
                yield pytest.param(event, status, id=f"{event}-on-{status}")


@pytest.mark.parametrize(("event", "status"), list(_wrong_state_params()))
def test_an_event_in_the_wrong_state_is_an_invalid_transition_and_changes_nothing(
        ledger, event, status):
    item_id = ledger.make(status)
    before = ledger.snap(item_id)
    with pytest.raises(InvalidTransition):
        ledger.run(event, DOER[event], item_id)
    assert_unchanged(before, ledger.snap(item_id))


def test_close_on_a_found_item_by_county_staff_is_an_invalid_transition(ledger):
    item_id = ledger.make("found")
    with pytest.raises(InvalidTransition) as info:
        ledger.run("close", "county_K1", item_id)
    assert info.value.code == "invalid_transition"
    assert ledger.snap(item_id).status == "found"


@pytest.mark.parametrize("event", ["approve_extension", "deny_extension"])
@pytest.mark.parametrize("status", ["assigned", "rectifying"])
def test_deciding_an_extension_nobody_requested_is_refused(ledger, event, status):
    item_id = ledger.make(status)
    before = ledger.snap(item_id)
    with pytest.raises(InvalidTransition):
        ledger.run(event, "county_K1", item_id)
    assert_unchanged(before, ledger.snap(item_id))


def test_a_second_extension_request_while_one_is_pending_is_refused(ledger):
    item_id = ledger.make("rectifying+ext")
    before = ledger.snap(item_id)
    with pytest.raises(InvalidTransition):
        ledger.run("request_extension", "sec_V111", item_id,
                   deadline=ledger.today() + dt.timedelta(days=90))
    assert_unchanged(before, ledger.snap(item_id))


def test_an_extension_can_be_asked_for_the_day_before_the_deadline_but_not_after_it(ledger):
    late, early = ledger.make("assigned"), ledger.make("assigned")
    deadline = ledger.snap(late).item.deadline
    noon = dt.time(4, 0, tzinfo=dt.UTC)  # 12:00 in Asia/Shanghai
    with time_machine.travel(dt.datetime.combine(deadline + dt.timedelta(days=1), noon),
                             tick=False):
        before = ledger.snap(late)
        with pytest.raises(InvalidTransition, match="before the deadline"):
            ledger.run("request_extension", "sec_V111", late)
        assert_unchanged(before, ledger.snap(late))
    with time_machine.travel(dt.datetime.combine(deadline - dt.timedelta(days=1), noon),
                             tick=False):
        assert ledger.run("request_extension", "sec_V111", early).status == "assigned"
    assert ledger.snap(early).item.pending_extension is not None


def test_reopen_works_within_the_follow_up_window_and_is_refused_after_it(ledger):
    inside, outside = ledger.make("closed"), ledger.make("closed")
    closed_at = ledger.snap(outside).item.closed_at
    closed_at = closed_at if closed_at.tzinfo else closed_at.replace(tzinfo=dt.UTC)
    with time_machine.travel(closed_at + dt.timedelta(days=366), tick=False):
        before = ledger.snap(outside)
        with pytest.raises(InvalidTransition, match="follow-up window"):
            ledger.run("reopen", "sup_K1", outside)
        assert_unchanged(before, ledger.snap(outside))
    with time_machine.travel(closed_at + dt.timedelta(days=364), tick=False):
        assert ledger.run("reopen", "sup_K1", inside).status == "rectifying"


def test_a_dismissed_item_cannot_be_reopened(ledger):
    item_id = ledger.make("dismissed")
    before = ledger.snap(item_id)
    assert before.status == "closed" and before.item.resolution == "dismissed"
    with pytest.raises(InvalidTransition):
        ledger.run("reopen", "county_K1", item_id)
    assert_unchanged(before, ledger.snap(item_id))


# --- the unit rule "above" at township level -------------------------------------------


def test_township_staff_may_not_assign_or_verify_a_finding_against_their_own_township(ledger,
                                                                                      world):
    item_id = ledger.record("county_K1", unit="T11").id
    before = ledger.snap(item_id)
    with pytest.raises(PermissionDenied):
        ledger.run("assign", "town_T11", item_id)
    with pytest.raises(PermissionDenied):
        ledger.run("dismiss", "town_T11", item_id)
    assert_unchanged(before, ledger.snap(item_id))
    with pytest.raises(NotFound):
        ledger.run("assign", "town_T12", item_id)
    with pytest.raises(NotFound):
        ledger.run("assign", "sec_V111", item_id)  # a village does not see its township


def test_nobody_records_a_finding_against_their_own_unit(ledger):
    with pytest.raises(PermissionDenied):
        ledger.record("town_T11", unit="T11")
    with pytest.raises(PermissionDenied):
        ledger.record("county_K1", unit="K1")


# --- missing input ---------------------------------------------------------------------


@pytest.mark.parametrize(("event", "status", "who", "overrides", "field"), [
    pytest.param("assign", "found", "town_T11", {"deadline": None}, "deadline",
                 id="assign-without-deadline"),
    pytest.param("assign", "found", "town_T11", {"category": ""}, "category",
                 id="assign-without-category"),
    pytest.param("reject", "submitted", "town_T11", {"reason": "   "}, "reason",
                 id="reject-with-blank-reason"),
    pytest.param("submit", "rectifying", "sec_V111", {"uploads": []}, "evidence",
                 id="submit-without-evidence"),
    pytest.param("accept", "assigned", "sec_V111", {"measures": " "}, "measures",
                 id="accept-without-measures"),
    pytest.param("reopen", "closed", "sup_K1", {"reason": ""}, "reason",
                 id="reopen-without-reason"),
])
def test_missing_required_input_is_a_validation_error_naming_the_field_and_changes_nothing(
        ledger, event, status, who, overrides, field):
    item_id = ledger.make(status)
    before = ledger.snap(item_id)
    with pytest.raises(ValidationError) as info:
        ledger.run(event, who, item_id, **overrides)
    assert field in info.value.fields
    assert_unchanged(before, ledger.snap(item_id))


def test_a_malformed_extension_date_is_a_validation_error_naming_the_deadline(ledger):
    item_id = ledger.make("assigned")
    before = ledger.snap(item_id)
    try:
        with pytest.raises(ValidationError) as info:
            ledger.run("request_extension", "sec_V111", item_id, deadline="2026-13-01")
        assert "deadline" in info.value.fields
    finally:
        assert_unchanged(before, ledger.snap(item_id))


# --- never by the submitter ------------------------------------------------------------


def test_the_submitter_may_not_verify_or_reject_their_own_submission(ledger, world):
    item_id = ledger.make("submitted")
    with pytest.raises(PermissionDenied):
        ledger.run("verify", "sec_V111", item_id)  # as a secretary: wrong role anyway

    # the same person moves to the township office before anyone verifies
    sec = world["sec_V111"]
    with ledger.app.uow() as uow:
        user = uow.session.get(User, sec.id)
        original = (user.role, user.unit_id)
        user.role, user.unit_id = "township_staff", world.units["T11"].id
        uow.commit()
    try:
        with ledger.app.uow() as uow:
            user = uow.session.get(User, sec.id)
            promoted = type(sec).of(user)
        assert promoted.id == sec.id and promoted.role == "township_staff"
        before = ledger.snap(item_id)
        with ledger.app.uow() as uow:
            offered = allowed_events(uow.session.get(Item, item_id), promoted, uow.context())
        assert "verify" not in offered and "reject" not in offered
        for event in ("verify", "reject"):
            kwargs = ledger.inputs(event)
            with ledger.app.uow() as uow, pytest.raises(
                    (PermissionDenied, InvalidTransition), match="own submission"):
                svc.EVENT_SERVICES[event](uow, item_id, promoted, **kwargs)
        assert_unchanged(before, ledger.snap(item_id))
        # a colleague who did not submit may
        assert ledger.run("verify", "town_T11", item_id).status == "verified"
    finally:
        with ledger.app.uow() as uow:
            user = uow.session.get(User, sec.id)
            user.role, user.unit_id = original
            uow.commit()


# --- history replays ------------------------------------------------------------------

#: the SPEC §7 transitions as (event, from status) -> to status, for replaying history
SPEC_MOVES = {
    ("assign", "found"): "assigned", ("reassign", "assigned"): "assigned",
    ("accept", "assigned"): "rectifying", ("report_progress", "rectifying"): "rectifying",
    ("submit", "rectifying"): "submitted", ("verify", "submitted"): "verified",
    ("reject", "submitted"): "rectifying", ("close", "verified"): "closed",
    ("reopen", "closed"): "rectifying", ("dismiss", "found"): "closed",
    ("request_extension", "assigned"): "assigned",
    ("request_extension", "rectifying"): "rectifying",
    ("approve_extension", "assigned"): "assigned",
    ("approve_extension", "rectifying"): "rectifying",
    ("deny_extension", "assigned"): "assigned",
    ("deny_extension", "rectifying"): "rectifying",
}


def test_the_history_of_a_full_journey_replays_to_the_current_state(ledger, world):
    item_id = ledger.record().id
    journey = [
        ("assign", "town_T11", {}),
        ("request_extension", "sec_V111", {}),
        ("deny_extension", "county_K1", {}),
        ("reassign", "county_K1", {}),
        ("accept", "sec_V112", {}),
        ("report_progress", "sec_V112", {"uploads": evidence()}),
        ("request_extension", "sec_V112", {}),
        ("approve_extension", "county_K1", {}),
        ("submit", "sec_V112", {}),
        ("reject", "town_T11", {}),
        ("submit", "sec_V112", {}),
        ("verify", "county_K1", {}),
        ("close", "county_K1", {}),
        ("reopen", "sup_city", {}),
        ("submit", "sec_V112", {}),
        ("verify", "town_T11", {}),
        ("close", "county_K1", {}),
    ]
    for event, who, overrides in journey:
        ledger.run(event, who, item_id, **overrides)
    snap = ledger.snap(item_id)
    history = snap.history
    assert [h.event for h in history] == ["record"] + [e for e, _, _ in journey]
    assert [h.seq for h in history] == list(range(1, len(history) + 1))
    assert snap.version == len(history)
    assert history[0].from_status is None and history[0].to_status == "found"
    for prev, entry in zip(history, history[1:], strict=False):
        assert entry.from_status == prev.to_status, entry.event
    assert history[-1].to_status == snap.status == "closed"
    # replaying the events through the SPEC table reaches the same statuses
    status = "found"
    for entry in history[1:]:
        status = SPEC_MOVES[(entry.event, status)]
        assert entry.to_status == status, entry.event
    assert status == snap.status
    assert [h.actor_id for h in history[1:]] == [world[who].id for _, who, _ in journey]
    assert snap.item.rejection_count == 1 and snap.item.extension_count == 1
    assert snap.evidence_count == 4  # one progress photo and three submissions
