"""A property test of the observation workflow over a real SQLite database.

Hypothesis picks sequences of (actor, event) among every role inside and outside
the observation's scope and fires them through ``ledger.observations.services``.
Each outcome is checked against a table of who-may-do-what written out here by
hand from SPEC §5 and issue 10 (not derived from the workflow's ``RULES``), and
afterwards the history must replay to the stored status and version.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
from pathlib import Path

import pytest
from conftest import WORLD_CACHE, make_sqlite
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from observation_helpers import fill
from observation_helpers import standard_ids as ids_of
from sqlalchemy import select

from ledger.core.errors import DomainError, InvalidTransition, NotFound
from ledger.core.models import Item, Observation, ObservationEvent
from ledger.observations import record
from ledger.observations import services as obs_svc
from ledger.observations.cycles import open_cycle

#: event -> ({status before: status after}, who may fire it on V111's observation)
#: V111 is observed by township T11; county K1 is the level above it.
SPEC = {
    "start": ({"planned": "in_progress"}, {"town_T11"}),
    "submit": ({"in_progress": "submitted"}, {"town_T11"}),
    "revise": ({"submitted": "in_progress"}, {"town_T11"}),
    "confirm": ({"submitted": "confirmed"}, {"town_T11"}),
    "reopen": ({"confirmed": "in_progress"}, {"county_K1"}),
}
#: who does not see V111's observation at all (another subtree)
OUTSIDE = {"town_T12", "county_K2", "sec_V112", "sup_K2"}
ACTORS = ["town_T11", "town_T12", "county_K1", "county_K2", "city", "sup_K1", "sup_K2",
          "sec_V111", "sec_V112", "admin"]
CALLS = {
    "start": lambda uow, oid, a: obs_svc.start(uow, oid, a),
    "submit": lambda uow, oid, a: obs_svc.submit(uow, oid, a),
    "revise": lambda uow, oid, a: obs_svc.revise(uow, oid, a, reason="补充谈话记录"),
    "confirm": lambda uow, oid, a: obs_svc.confirm(uow, oid, a),
    "reopen": lambda uow, oid, a: obs_svc.reopen(uow, oid, a, reason="复核"),
}
#: the people who can move V111's record, drawn more often than the rest
#: the lines the filled record fails: each becomes one ledger item on confirmation
FAILS = {"basic:2": "党员活动室未悬挂入党誓词", "basic:7": "三会一课记录不全"}
MOVERS = ["town_T11", "town_T11", "county_K1", "sec_V111"]
_COUNTER = itertools.count()


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=st.lists(st.tuples(st.one_of(st.sampled_from(MOVERS), st.sampled_from(ACTORS)),
                                st.sampled_from(sorted(SPEC))),
                      min_size=1, max_size=20))
def test_every_step_follows_the_table_and_the_history_replays(sqlite_templates, steps):
    world = WORLD_CACHE["world"]
    folder = Path(tempfile.mkdtemp(prefix=f"obsprop{next(_COUNTER)}-"))
    sanhu = make_sqlite(sqlite_templates["world"], folder)
    try:
        with sanhu.uow() as uow:
            cycle = open_cycle(uow, "village_quarterly", "2026Q4")
        with sanhu.uow() as uow:
            oid = uow.session.scalar(select(Observation.id).where(
                Observation.cycle_id == cycle.cycle_id,
                Observation.unit_id == world.units["V111"].id))
        status, version = "planned", 1
        done: list[str] = []
        for name, event in steps:
            moves, who = SPEC[event]
            hidden = name in OUTSIDE or (name == "sec_V111" and status != "confirmed")
            allowed = name in who and status in moves and not hidden
            with sanhu.uow() as uow:
                try:
                    result = CALLS[event](uow, oid, world[name])
                except NotFound:
                    assert hidden, f"{name} {event} in {status}: not found, but in scope"
                    continue
                except DomainError as exc:
                    assert not allowed, f"{name} {event} in {status} refused: {exc}"
                    assert not hidden, f"{name} learnt of an observation outside their scope"
                    continue
            assert allowed, f"{name} could {event} in {status}"
            status, version = moves[status], version + 1
            assert (result.status, result.version) == (status, version)
            if event == "start":
                fill(sanhu, oid, world["town_T11"], fails=FAILS)
            if status == "confirmed":
                # locked: the record cannot change except through reopen
                with sanhu.uow() as uow, pytest.raises(InvalidTransition):
                    record.save_line(uow, oid, ids_of(sanhu, oid)["basic:1"],
                                     world["town_T11"], result="fail")
            with sanhu.uow() as uow:  # findings: one per failed standard, never twice
                numbers = uow.session.scalars(select(Item.standard_id).where(
                    Item.observation_id == oid)).all()
            confirmed_once = any(e == "confirm" for e in done) or event == "confirm"
            assert len(numbers) == (len(FAILS) if confirmed_once else 0)
            assert len(set(numbers)) == len(numbers)
            done.append(event)

        with sanhu.uow() as uow:
            obs = uow.session.get(Observation, oid)
            rows = uow.session.execute(
                select(ObservationEvent.seq, ObservationEvent.from_status,
                       ObservationEvent.to_status)
                .where(ObservationEvent.observation_id == oid)
                .order_by(ObservationEvent.seq)).all()
        assert (obs.status, obs.version) == (status, version)
        replayed = "planned"
        for expected_seq, (seq, before, after) in enumerate(rows, start=2):
            assert (seq, before) == (expected_seq, replayed)
            replayed = after
        assert replayed == obs.status
        assert (obs.confirmed_at is not None) == (obs.status == "confirmed")
    finally:
        sanhu.dispose()
        shutil.rmtree(folder, ignore_errors=True)
