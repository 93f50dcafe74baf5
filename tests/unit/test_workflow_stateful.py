"""A stateful property test of the ledger workflow over a real SQLite database.

Hypothesis drives random actors of a small organisation (every role, inside and
outside each item's scope) through random events of ``ledger.items.services`` while
the clock jumps forward, and after every step the database is read back and
checked against SPEC §7, using a table of who-may-do-what written out here
independently of ``ledger.items.workflow.RULES``.

``SANHU_HYPOTHESIS_PROFILE=long`` runs many more and longer examples.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime as dt
import functools
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from unittest import mock
from zoneinfo import ZoneInfo

import time_machine
from conftest import build_world  # tests/ is on sys.path: pytest inserts the rootdir conftest's dir
from hypothesis import HealthCheck, Phase, settings
from hypothesis import event as tally
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)
from sqlalchemy import select

from ledger.core.actors import Actor
from ledger.core.errors import DomainError, NotFound
from ledger.core.models import Item, ItemEvent, Unit, User
from ledger.core.settings import Settings
from ledger.instance.bootstrap import bootstrap
from ledger.instance.migrate import upgrade
from ledger.items import services as svc
from ledger.items.workflow import ITEM_LEVELS

SHANGHAI = ZoneInfo("Asia/Shanghai")
PDF = b"%PDF-1.4\n%%EOF\n"

# --- SPEC §7, written out by hand (NOT derived from ledger.items.workflow.RULES) -------------

CO, TO, SEC, SUP = "county_staff", "township_staff", "village_secretary", "supervisor"
_EXT = {"assigned": "assigned", "rectifying": "rectifying", "submitted": "submitted"}

#: event -> (roles that may fire it, {status before: status after}, unit rule)
#: "own": the actor belongs to the item's responsible unit (that village's secretary);
#: "above": the item lies in the actor's subtree, strictly below the actor's own unit.
SPEC_TABLE: dict[str, tuple[frozenset[str], dict[str | None, str], str]] = {
    # recording is not in the §7 table: staff who observe (§2, §5) and supervisors
    # (督查暗访 is a source of findings) record problems against units below them
    "record": (frozenset({CO, TO, SUP}), {None: "found"}, "above"),
    "assign": (frozenset({CO, TO}), {"found": "assigned"}, "above"),
    "reassign": (frozenset({CO}), {"assigned": "assigned"}, "above"),
    # the responsible unit's own people: a village's secretary, or for a finding against a
    # township (a county's half-yearly observation) that township's staff
    "accept": (frozenset({SEC, TO}), {"assigned": "rectifying"}, "own"),
    "report_progress": (frozenset({SEC, TO}), {"rectifying": "rectifying"}, "own"),
    "submit": (frozenset({SEC, TO}), {"rectifying": "submitted"}, "own"),
    "verify": (frozenset({TO, CO}), {"submitted": "verified"}, "above"),
    "reject": (frozenset({TO, CO}), {"submitted": "rectifying"}, "above"),
    "close": (frozenset({CO}), {"verified": "closed"}, "above"),
    "reopen": (frozenset({CO, SUP}), {"closed": "rectifying"}, "above"),
    "request_extension": (frozenset({SEC, TO}), {"assigned": "assigned",
                                             "rectifying": "rectifying"}, "own"),
    "approve_extension": (frozenset({CO}), dict(_EXT), "above"),
    "deny_extension": (frozenset({CO}), dict(_EXT), "above"),
    "dismiss": (frozenset({CO}), {"found": "closed"}, "above"),
}
FOLLOW_UP = dt.timedelta(days=365)  # Settings.follow_up_days default (§7: one year)

EVENTS = sorted(svc.EVENT_SERVICES)
assert set(EVENTS) == set(SPEC_TABLE) - {"record"}, "EVENT_SERVICES and SPEC §7 disagree"


# --- one migrated database with the test world, built once, copied per example -------


@dataclass(frozen=True)
class Template:
    path: Path
    actors: dict[str, Actor]
    units: dict[int, SimpleNamespace]  # id -> code, level and ancestor ids
    unit_users: dict[int, list[int]]  # unit id -> user ids


def _snapshot(unit: Unit) -> SimpleNamespace:
    return SimpleNamespace(id=unit.id, code=unit.code, level=unit.level, unit_id=unit.id,
                           city_id=unit.city_id, county_id=unit.county_id,
                           township_id=unit.township_id, village_id=unit.village_id)


@functools.cache
def template() -> Template:
    """Migrate and populate one SQLite file for the whole session.

    Passwords are hashed with the cheapest argon2 settings here: nobody signs in
    during the machine, and the default settings cost about 0.3 s per user.
    """
    root = Path(tempfile.mkdtemp(prefix="sanhu-stateful-tpl-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    path = root / "template.sqlite"
    app = bootstrap(Settings(database_url=f"sqlite:///{path}", evidence_dir=root / "ev"))
    try:
        upgrade(app)
        with _cheap_password_hashing():
            world = build_world(app)
        with app.uow() as uow:
            units = {u.id: _snapshot(u) for u in uow.session.scalars(select(Unit))}
            unit_users: dict[int, list[int]] = {}
            for user in uow.session.scalars(select(User).order_by(User.id)):
                unit_users.setdefault(user.unit_id, []).append(user.id)
    finally:
        app.dispose()
    return Template(path, dict(world.actors), units, unit_users)


def _cheap_password_hashing():
    from argon2 import PasswordHasher

    from ledger.org import directory as org

    if not hasattr(org, "_HASHER"):
        return contextlib.nullcontext()
    return mock.patch.object(org, "_HASHER", PasswordHasher(time_cost=1, memory_cost=8,
                                                            parallelism=1))


def _fast_tmp() -> str | None:
    """A RAM-backed temp directory when there is one: the per-example copies stay off disk."""
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None


def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def biased(data: st.DataObject, likely: list, anything: list, label: str):
    """Four times in five one of ``likely`` (when there is any), else one of ``anything``."""
    pool = data.draw(st.sampled_from([likely, likely, likely, likely, anything])
                     if likely else st.just(anything), label=f"{label} pool")
    return data.draw(st.sampled_from(pool), label=label)


# --- the machine -----------------------------------------------------------------------


#: what people usually do next, by status (SPEC §7); only steers the random choice
NEXT_STEPS: dict[str, list[str]] = {
    "found": ["assign", "assign", "assign", "dismiss"],
    "assigned": ["accept", "accept", "accept", "reassign", "request_extension"],
    "rectifying": ["submit", "submit", "submit", "report_progress", "request_extension"],
    "submitted": ["verify", "verify", "reject"],
    "verified": ["close"],
    "closed": ["reopen"],
}


class WorkflowMachine(RuleBasedStateMachine):
    #: one database path for every example (re-copied each time): the parsed
    #: calendar is cached per database URL, so it is loaded only once per run
    workdir: Path | None = None

    def __init__(self) -> None:
        super().__init__()
        tpl = template()
        self.tpl = tpl
        if WorkflowMachine.workdir is None:
            WorkflowMachine.workdir = Path(tempfile.mkdtemp(prefix="sanhu-stateful-",
                                                            dir=_fast_tmp()))
            atexit.register(shutil.rmtree, WorkflowMachine.workdir, ignore_errors=True)
        self.dir = WorkflowMachine.workdir
        db = self.dir / "sanhu.sqlite"
        for leftover in (self.dir / "sanhu.sqlite-wal", self.dir / "sanhu.sqlite-shm",
                         self.dir / "ev"):
            if leftover.is_dir():
                shutil.rmtree(leftover)
            else:
                leftover.unlink(missing_ok=True)
        shutil.copy(tpl.path, db)
        self.app = bootstrap(Settings(database_url=f"sqlite:///{db}",
                                      evidence_dir=self.dir / "ev"))
        self.actors = list(tpl.actors.values())
        self.actors_by_id = {a.id: a for a in self.actors}
        self.item_ids: list[int] = []
        self.max_version: dict[int, int] = {}
        # 09:00 in Shanghai on a Monday; the clock ticks, days only move by ``shift``
        self.traveller = time_machine.travel(dt.datetime(2026, 1, 5, 1, 0, tzinfo=dt.UTC),
                                             tick=True)
        self.clock = self.traveller.start()

    def teardown(self) -> None:
        try:
            with self.app.uow() as uow:
                for status in {i.status for i in uow.session.scalars(select(Item))}:
                    tally(f"an item ended {status}")
        finally:
            self.traveller.stop()
            self.app.dispose()

    # --- helpers ---------------------------------------------------------------------

    def today(self) -> dt.date:
        return dt.datetime.now(dt.UTC).astimezone(SHANGHAI).date()

    def attempt(self, actor: Actor, before: Item | SimpleNamespace, call, *,
                role_may: bool = True) -> object | None:
        """Run a service call; refusals are fine, but scope must never leak."""
        try:
            with self.app.uow() as uow:
                return call(uow)
        except NotFound:
            return None
        except DomainError:
            # a refusal other than "not found" tells the actor the object exists:
            # only allowed inside their scope (SPEC §2), or when their role may
            # never do this at all (``role_may`` False), which reveals nothing
            assert actor.sees(before) or not role_may, (
                f"{actor.username} was refused with a reason on something out of scope")
            return None

    def record_one(self, data: st.DataObject, likely: bool) -> None:
        recorders = [a for a in self.actors if a.role in SPEC_TABLE["record"][0]]
        actor = biased(data, recorders, recorders if likely else self.actors, "actor")
        units = sorted(self.tpl.units.values(), key=lambda u: u.id)
        below = [u for u in units if actor.is_above(u)]
        villages = [u for u in below if u.level == "village"]
        unit = biased(data, villages, below if likely else units, "unit")
        result = self.attempt(actor, unit, lambda uow: svc.record_finding(
            uow, actor, unit_id=unit.id, description="制度未上墙", source="observation"),
            role_may=actor.role in SPEC_TABLE["record"][0])
        tally(f"record {'done' if result is not None else 'refused'}")
        if result is not None:
            assert actor.role in SPEC_TABLE["record"][0]
            assert actor.is_above(unit)
            assert result.status == "found" and result.version == 1
            self.item_ids.append(result.id)
        else:
            # refused: outside the actor's area, or not a township or village (SPEC §7)
            assert not likely or not actor.is_above(unit) or unit.level not in ITEM_LEVELS

    # --- rules -----------------------------------------------------------------------

    @initialize(days=st.integers(0, 360), data=st.data())
    def start_somewhere_in_2026(self, days: int, data: st.DataObject) -> None:
        """Start on a random day of 2026 (so deadlines reach into unofficial 2027),
        with one finding, so that there is always an item to act on."""
        self.clock.shift(dt.timedelta(days=days))
        self.record_one(data, likely=True)

    @rule(data=st.data())
    def record(self, data: st.DataObject) -> None:
        """Someone (anyone) records a finding on some unit."""
        self.record_one(data, likely=False)

    @precondition(lambda self: self.item_ids)  # the first finding may have been refused
    @rule(data=st.data())
    def fire_event(self, data: st.DataObject) -> None:
        """Someone (anyone) fires some event on some item, perhaps after some days."""
        days = data.draw(st.sampled_from([0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 5, 8, 13, 30, 100,
                                          370]), label="days pass")
        if days:
            self.clock.shift(dt.timedelta(days=days))
        with self.app.uow() as uow:
            items = {i.id: i for i in uow.session.scalars(select(Item))}
        open_ids = [i for i in self.item_ids if items[i].resolution != "dismissed"]
        item_id = biased(data, open_ids[-3:], self.item_ids, "item")
        item = items[item_id]
        # mostly what would come next by SPEC, else any event at all
        likely = list(NEXT_STEPS[item.status])
        if item.pending_extension:
            likely += ["approve_extension", "deny_extension"]
        if item.resolution == "dismissed":
            likely = []
        event = biased(data, likely, EVENTS, "event")
        # mostly someone with a role SPEC allows who sees the item, else anyone at all
        fitting = [a for a in self.actors if a.role in SPEC_TABLE[event][0] and a.sees(item)]
        actor = biased(data, fitting, self.actors, "actor")
        kwargs = self.inputs(data, event, item)
        service = svc.EVENT_SERVICES[event]
        result = self.attempt(actor, item,
                              lambda uow: service(uow, item_id, actor, **kwargs))
        tally(f"{event} {'done' if result is not None else 'refused'}")
        if result is not None:
            assert actor.sees(item), f"{actor.username} changed an item out of scope"
            assert result.version == item.version + 1

    @precondition(lambda self: self.item_ids)
    @rule(data=st.data())
    def fire_another_event(self, data: st.DataObject) -> None:
        """The same as ``fire_event``: two rules, so events come twice as often as findings."""
        self.fire_event(data)

    def inputs(self, data: st.DataObject, event: str, item: Item) -> dict[str, object]:
        today = self.today()
        deadline = data.draw(st.one_of(
            st.sampled_from(["5w", "10d"]),
            st.integers(0, 120).map(lambda n: today + dt.timedelta(days=n)),
            st.integers(0, 120).map(lambda n: (today + dt.timedelta(days=n)).isoformat()),
        ), label="deadline")

        def person(unit_id: int) -> int:
            return biased(data, self.tpl.unit_users.get(unit_id, []),
                          sorted(self.actors_by_id), "responsible")

        if event == "assign":
            return dict(responsible_user_id=person(item.unit_id), deadline=deadline,
                        category=data.draw(st.sampled_from(svc.CATEGORIES), label="category"))
        if event == "reassign":
            below = [u for u in sorted(self.tpl.units)
                     if self.tpl.units[u].county_id == item.county_id]
            unit = biased(data, below, sorted(self.tpl.units), "new unit")
            return dict(responsible_user_id=person(unit), unit_id=unit, reason="换人整改",
                        deadline=data.draw(st.none() | st.just(deadline), label="new deadline"))
        if event == "accept":
            return dict(measures="制作制度牌并上墙")
        if event == "report_progress":
            uploads = data.draw(st.sampled_from([(), (svc.Upload(PDF, "a.pdf"),)]),
                                label="uploads")
            return dict(note="已完成一半", uploads=uploads)
        if event == "submit":
            return dict(note="已整改到位", uploads=[svc.Upload(PDF, "a.pdf")])
        if event == "verify":
            return dict(method="实地查看", note="整改到位")
        if event == "reject":
            return dict(reason="佐证材料不足")
        if event == "close":
            return {}
        if event == "reopen":
            return dict(reason="回头看发现反弹",
                        deadline=data.draw(st.none() | st.just(deadline), label="new deadline"))
        if event == "request_extension":
            base = item.deadline or today
            new = base + dt.timedelta(days=data.draw(st.integers(-3, 40), label="extra days"))
            return dict(deadline=data.draw(st.sampled_from([new, new.isoformat()]),
                                           label="requested"), reason="雨季施工困难")
        if event == "approve_extension":
            return {}
        if event == "deny_extension":
            return dict(reason="理由不充分")
        if event == "dismiss":
            return dict(reason="与已有问题重复",
                        kind=data.draw(st.sampled_from(svc.DISMISS_REASONS), label="kind"))
        raise AssertionError(f"no inputs for {event}")

    # --- invariants, read back from the database -----------------------------------

    @invariant()
    def history_explains_every_item(self) -> None:
        with self.app.uow() as uow:
            items = {i.id: i for i in uow.session.scalars(select(Item))}
            history: dict[int, list[ItemEvent]] = {}
            for entry in uow.session.scalars(
                    select(ItemEvent).order_by(ItemEvent.item_id, ItemEvent.seq)):
                history.setdefault(entry.item_id, []).append(entry)
        assert set(items) == set(self.item_ids)
        assert set(history) == set(items)
        for item_id, item in items.items():
            self.check_item(item, history[item_id])

    def check_item(self, item: Item, entries: list[ItemEvent]) -> None:
        n = item.number
        # versions only grow and equal the number of history entries; seq is 1..version
        assert item.version >= self.max_version.get(item.id, 0), n
        self.max_version[item.id] = item.version
        assert item.version == len(entries), n
        # the status filter counts on it (``_status_clause``, ``ix_items_<level>_status``)
        assert not item.submitted or item.state == "rectifying", n
        assert [e.seq for e in entries] == list(range(1, item.version + 1)), n

        # replaying the history gives the current status
        assert entries[0].event == "record" and entries[0].from_status is None, n
        status = entries[0].to_status
        for prev, entry in zip(entries, entries[1:], strict=False):
            assert entry.from_status == prev.to_status, (n, entry.seq)
            status = entry.to_status
        assert status == item.status, n

        # every entry: allowed by SPEC for the role, the status and the unit rule,
        # by an actor who saw the item where it was at the time
        where = None
        deadline: dt.date | None = None
        submitter = closed_at = None
        for entry in entries:
            actor = self.actors_by_id[entry.actor_id]
            assert entry.actor_role == actor.role, (n, entry.seq)
            roles, moves, unit_rule = SPEC_TABLE[entry.event]
            assert entry.actor_role in roles, (n, entry.seq, entry.event, entry.actor_role)
            assert moves.get(entry.from_status) == entry.to_status, (
                n, entry.seq, entry.event, entry.from_status, entry.to_status)
            changes = entry.changes or {}
            if where is None:
                where = self.tpl.units[changes["unit_id"]]
            assert actor.sees(where), (n, entry.seq, f"{actor.username} is out of scope")
            if unit_rule == "own":
                assert actor.unit_id == where.id, (n, entry.seq, entry.event)
            else:
                assert actor.is_above(where), (n, entry.seq, entry.event)
            at = _utc(entry.at)
            if entry.event == "request_extension":
                assert deadline is not None and at.astimezone(SHANGHAI).date() <= deadline, (
                    n, entry.seq, "extension asked after the deadline")
            if entry.event in ("verify", "reject"):
                assert entry.actor_id != submitter, (n, entry.seq, "verified own submission")
            if entry.event == "submit":
                submitter = entry.actor_id
            if entry.to_status == "closed":
                closed_at = at
            if entry.event == "reopen":
                assert closed_at is not None and at - closed_at <= FOLLOW_UP, (n, entry.seq)
            if "unit_id" in changes:
                where = self.tpl.units[changes["unit_id"]]
            if changes.get("deadline"):
                deadline = dt.date.fromisoformat(changes["deadline"])
        # the item is filed where its history last put it
        assert item.unit_id == where.id, n
        for col in ("city_id", "county_id", "township_id", "village_id"):
            assert getattr(item, col) == getattr(where, col), (n, col)
        assert item.deadline == deadline, n

        # closed means verified (after the last reopen) and closed, or dismissed
        events = [e.event for e in entries]
        if item.state == "closed":
            assert item.closed_at is not None, n
            last_reopen = max((i for i, e in enumerate(events) if e == "reopen"), default=-1)
            if item.resolution == "rectified":
                assert "verify" in events[last_reopen + 1:], n
                assert events[-1] == "close", n
            else:
                assert item.resolution == "dismissed", (n, item.resolution)
                assert events[-1] == "dismiss", n
                assert "reopen" not in events, n
        else:
            assert item.resolution is None and item.closed_at is None, n

        # counters kept on the item agree with the history
        assert item.rejection_count == events.count("reject"), n
        assert item.extension_count == events.count("approve_extension"), n
        if item.status == "submitted":
            assert item.submitted_by_id == submitter, n
        if item.state in ("verified", "closed") and item.resolution != "dismissed":
            verify = next(e for e in reversed(entries) if e.event == "verify")
            assert item.verifier_id == verify.actor_id, n


_DEFAULT = "sanhu-workflow-stateful"
_LONG = "sanhu-workflow-stateful-long"
settings.register_profile(_DEFAULT, max_examples=60, stateful_step_count=40, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow],
                          # the explain phase replays a failure hundreds of times: minutes
                          phases=[p for p in Phase if p is not Phase.explain])
settings.register_profile(_LONG, parent=settings.get_profile(_DEFAULT), max_examples=600,
                          stateful_step_count=120)

WorkflowMachine.TestCase.settings = settings.get_profile(
    _LONG if os.environ.get("SANHU_HYPOTHESIS_PROFILE") == "long" else _DEFAULT)
TestWorkflowStateful = WorkflowMachine.TestCase


# --- dead ends and stale requests the machine runs into (shown deterministically) ------
# (ordinary pytest tests, using the ``sanhu`` and ``world`` fixtures of tests/conftest.py)


def _do(app, world, fn, who: str, item_id: int, **kwargs):
    with app.uow() as uow:
        return fn(uow, item_id, world[who], **kwargs)


def _who_may(app, world, item_id: int) -> dict[str, list[str]]:
    from ledger.items.workflow import allowed_events

    with app.uow() as uow:
        item, ctx = uow.session.get(Item, item_id), uow.context()
        return {name: allowed_events(item, actor, ctx) for name, actor in world.actors.items()
                if allowed_events(item, actor, ctx)}


def test_a_finding_someone_may_record_can_be_assigned_or_dismissed_by_someone(sanhu, world):
    with sanhu.uow() as uow:
        try:
            item = svc.record_finding(uow, world["sup_city"], unit_id=world.units["K1"].id,
                                      description="县委组织部台账不全", source="inspection")
        except DomainError:
            return  # refusing such findings would be a fix as well
    offered = _who_may(sanhu, world, item.id)
    assert any({"assign", "dismiss"} & set(events) for events in offered.values()), offered


def test_whoever_an_item_is_assigned_to_can_accept_it(sanhu, world):
    with sanhu.uow() as uow:
        item = svc.record_finding(uow, world["county_K1"], unit_id=world.units["T11"].id,
                                  description="乡镇党委未落实三会一课")
    try:
        _do(sanhu, world, svc.assign, "county_K1", item.id,
            responsible_user_id=world["town_T11"].id, category="deadline", deadline="10d")
    except DomainError:
        return  # refusing an assignment nobody could take up would be a fix as well
    offered = _who_may(sanhu, world, item.id)
    assert any("accept" in events for events in offered.values()), offered


def test_approving_an_extension_never_moves_the_deadline_earlier(sanhu, world):
    with time_machine.travel(dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC), tick=False):
        with sanhu.uow() as uow:
            item = svc.record_finding(uow, world["town_T11"], unit_id=world.units["V111"].id,
                                      description="制度未上墙")
        _do(sanhu, world, svc.assign, "town_T11", item.id, category="deadline",
            responsible_user_id=world["sec_V111"].id, deadline=dt.date(2026, 3, 20))
        _do(sanhu, world, svc.request_extension, "sec_V111", item.id,
            deadline=dt.date(2026, 3, 31), reason="雨季施工困难")
        _do(sanhu, world, svc.reassign, "county_K1", item.id, reason="改由邻村整改",
            responsible_user_id=world["sec_V112"].id, unit_id=world.units["V112"].id,
            deadline=dt.date(2026, 5, 29))
        try:
            _do(sanhu, world, svc.approve_extension, "county_K1", item.id)
        except DomainError:
            return  # a request that did not survive the reassignment: fine
        with sanhu.uow() as uow:
            assert uow.session.get(Item, item.id).deadline >= dt.date(2026, 5, 29)


def test_an_extension_request_does_not_outlive_the_rectification(sanhu, world):
    with time_machine.travel(dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC), tick=False):
        with sanhu.uow() as uow:
            item = svc.record_finding(uow, world["town_T11"], unit_id=world.units["V111"].id,
                                      description="制度未上墙")
        _do(sanhu, world, svc.assign, "town_T11", item.id, category="deadline",
            responsible_user_id=world["sec_V111"].id, deadline="10d")
        _do(sanhu, world, svc.accept, "sec_V111", item.id, measures="制作制度牌")
        _do(sanhu, world, svc.request_extension, "sec_V111", item.id,
            deadline=dt.date(2026, 4, 30), reason="等待制作")
        try:
            _do(sanhu, world, svc.submit, "sec_V111", item.id, note="已上墙",
                uploads=[svc.Upload(PDF, "a.pdf")])
        except DomainError:
            return  # refusing to submit while a request is pending would be a fix as well
        _do(sanhu, world, svc.verify, "town_T11", item.id, method="实地查看", note="到位")
        _do(sanhu, world, svc.close, "county_K1", item.id)
        with sanhu.uow() as uow:
            closed = uow.session.get(Item, item.id)
            assert closed.status == "closed"
            assert closed.pending_extension is None
