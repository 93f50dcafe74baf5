"""Every observation event and every record save against every person of the world,
from every state: allowed, refused, or not even seen.

The tables are written out by hand from SPEC §5 and issue 10 (not derived from
``ledger.observations.workflow.RULES``).  The observation is V111's, observed by
township T11; county K1 is the level above; ``county_K1`` is also T11's liaison
in the ``liaison`` variant.  Each case opens its own cycle (a unique period) on
one shared SQLite world, so cases stay independent.
"""

from __future__ import annotations

import itertools

import pytest
from observation_helpers import fill, standard_ids
from sqlalchemy import select

from ledger.core.errors import DomainError, InvalidTransition, NotFound, PermissionDenied
from ledger.core.models import Liaison, Observation, ObservationLine
from ledger.observations import record
from ledger.observations import services as obs_svc
from ledger.observations.cycles import open_cycle

ALL_ACTORS = (
    "city", "sup_city", "admin",
    "county_K1", "sup_K1", "county_K2", "sup_K2",
    "town_T11", "town_T12", "town_T21", "town_T22",
    "sec_V111", "sec_V112", "sec_V121", "sec_V122",
    "sec_V211", "sec_V212", "sec_V221", "sec_V222",
)
#: who sees V111's observation at all (the secretary only once it is confirmed)
SCOPE = {"city", "sup_city", "admin", "county_K1", "sup_K1", "town_T11", "sec_V111"}
STATES = ("planned", "in_progress", "submitted", "confirmed")

# event      from → to                  who (for V111's record)
# start      planned → in_progress      township T11 staff
# submit     in_progress → submitted    township T11 staff (record complete)
# revise     submitted → in_progress    township T11 staff, with a reason
# confirm    submitted → confirmed      township T11 staff
# reopen     confirmed → in_progress    county K1 staff (the level above), with a reason
# save_line  in_progress only           township T11 staff, and the county liaison of T11
MOVES = {"start": ("planned", "in_progress"), "submit": ("in_progress", "submitted"),
         "revise": ("submitted", "in_progress"), "confirm": ("submitted", "confirmed"),
         "reopen": ("confirmed", "in_progress")}
WHO = {"start": {"town_T11"}, "submit": {"town_T11"}, "revise": {"town_T11"},
       "confirm": {"town_T11"}, "reopen": {"county_K1"}}
CALLS = {
    "start": lambda uow, oid, a: obs_svc.start(uow, oid, a),
    "submit": lambda uow, oid, a: obs_svc.submit(uow, oid, a),
    "revise": lambda uow, oid, a: obs_svc.revise(uow, oid, a, reason="补充"),
    "confirm": lambda uow, oid, a: obs_svc.confirm(uow, oid, a),
    "reopen": lambda uow, oid, a: obs_svc.reopen(uow, oid, a, reason="复核"),
}
_PERIODS = (f"{y}Q{q}" for y in itertools.count(2100) for q in (1, 2, 3, 4))


@pytest.fixture(scope="module")
def _shared(sqlite_template, tmp_path_factory):
    from conftest import build_world, make_sqlite

    app = make_sqlite(sqlite_template, tmp_path_factory.mktemp("obs-matrix"))
    world = build_world(app)
    assert set(world.actors) == set(ALL_ACTORS)
    yield app, world
    app.dispose()


def observation_in(app, world, state: str) -> int:
    """A fresh observation of V111 in ``state``, moved there by its observers."""
    with app.uow() as uow:
        cycle = open_cycle(uow, "village_quarterly", next(_PERIODS))
    with app.uow() as uow:
        oid = uow.session.scalar(select(Observation.id).where(
            Observation.cycle_id == cycle.cycle_id,
            Observation.unit_id == world.units["V111"].id))
    town = world["town_T11"]
    if state == "planned":
        return oid
    with app.uow() as uow:
        obs_svc.start(uow, oid, town)
    fill(app, oid, town)
    for event in {"in_progress": (), "submitted": ("submit",),
                  "confirmed": ("submit", "confirm")}[state]:
        with app.uow() as uow:
            CALLS[event](uow, oid, town)
    return oid


def status_of(app, oid: int) -> tuple[str, int]:
    with app.uow() as uow:
        obs = uow.session.get(Observation, oid)
        return obs.status, obs.version


def hidden(name: str, state: str) -> bool:
    return name not in SCOPE or (name == "sec_V111" and state != "confirmed")


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("event", tuple(MOVES))
@pytest.mark.parametrize("name", ALL_ACTORS)
def test_each_event_by_each_person_in_each_state(_shared, name, event, state):
    app, world = _shared
    oid = observation_in(app, world, state)
    before = status_of(app, oid)
    source, dest = MOVES[event]
    with app.uow() as uow:
        if hidden(name, state):
            with pytest.raises(NotFound):
                CALLS[event](uow, oid, world[name])
        elif name not in WHO[event]:
            with pytest.raises(PermissionDenied):
                CALLS[event](uow, oid, world[name])
        elif state != source:
            with pytest.raises(InvalidTransition):
                CALLS[event](uow, oid, world[name])
        else:
            assert CALLS[event](uow, oid, world[name]).status == dest
            assert status_of(app, oid) == (dest, before[1] + 1)
            return
    assert status_of(app, oid) == before


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("name", ALL_ACTORS)
def test_who_may_save_a_checklist_line_and_when(_shared, name, state):
    """county_K1 is T11's liaison here (without, it is refused: test_observation_record)."""
    app, world = _shared
    oid = observation_in(app, world, state)
    with app.uow() as uow:
        if uow.session.get(Liaison, (world["county_K1"].id, world.units["T11"].id)) is None:
            uow.session.add(Liaison(user_id=world["county_K1"].id,
                                    township_id=world.units["T11"].id,
                                    assigned_by_id=world["county_K1"].id))
            uow.commit()
    fillers = {"town_T11", "county_K1"}
    ids = standard_ids(app, oid) or {"basic:1": 0}
    with app.uow() as uow:
        try:
            record.save_line(uow, oid, ids["basic:1"], world[name], result="fail", note="x")
            outcome = "saved"
        except NotFound:
            outcome = "hidden"
        except PermissionDenied:
            outcome = "forbidden"
        except InvalidTransition:
            outcome = "locked"
        except DomainError as exc:  # pragma: no cover - reported
            outcome = f"unexpected {exc!r}"
    if hidden(name, state):
        assert outcome == "hidden"
    elif name not in fillers:
        assert outcome == "forbidden"
    elif state != "in_progress":
        assert outcome == "locked"
    else:
        assert outcome == "saved"
        with app.uow() as uow:
            assert uow.session.scalar(select(ObservationLine.result).where(
                ObservationLine.observation_id == oid,
                ObservationLine.standard_id == ids["basic:1"])) == "fail"
