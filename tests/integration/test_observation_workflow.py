"""The observation lifecycle through its services, on SQLite and PostgreSQL.

planned → in_progress → submitted → confirmed, revise and reopen; who may fire
what (the observing unit, the level above it for reopen), who sees what (a
village secretary only the confirmed record of their village), version checks
and the append-only history.
"""

from __future__ import annotations

import pytest
from observation_helpers import fill, observation_of
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from ledger.core.errors import (
    Conflict,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from ledger.core.models import Observation, ObservationEvent
from ledger.observations import services as obs_svc
from ledger.observations.workflow import allowed_events, observation_mermaid


@pytest.fixture
def village_obs(any_sanhu, any_world) -> int:
    """The quarterly observation of V111 (observed by township T11, county K1 above)."""
    return observation_of(any_sanhu, any_world, "village_quarterly", "2026Q4", "V111")


@pytest.fixture
def township_obs(any_sanhu, any_world) -> int:
    """The half-yearly observation of T11 (observed by county K1, the city above)."""
    return observation_of(any_sanhu, any_world, "township_half_yearly", "2026H2", "T11")


def history(sanhu, obs_id: int) -> list[tuple]:
    with sanhu.uow() as uow:
        return [tuple(r) for r in uow.session.execute(
            select(ObservationEvent.seq, ObservationEvent.event, ObservationEvent.from_status,
                   ObservationEvent.to_status, ObservationEvent.note)
            .where(ObservationEvent.observation_id == obs_id).order_by(ObservationEvent.seq))]


def status(sanhu, obs_id: int) -> tuple[str, int]:
    with sanhu.uow() as uow:
        obs = uow.session.get(Observation, obs_id)
        return obs.status, obs.version


def test_opening_a_cycle_gives_each_observation_its_targets_ancestors(any_sanhu, any_world,
                                                                      village_obs):
    with any_sanhu.uow() as uow:
        obs = uow.session.get(Observation, village_obs)
        assert (obs.status, obs.version) == ("planned", 1)
        assert obs.observing_unit_id == any_world.units["T11"].id
        assert (obs.county_id, obs.township_id, obs.village_id) == (
            any_world.units["K1"].id, any_world.units["T11"].id, any_world.units["V111"].id)


def test_a_township_records_and_confirms_and_the_county_reopens_with_a_reason(
        any_sanhu, any_world, village_obs):
    town, county = any_world["town_T11"], any_world["county_K1"]
    with any_sanhu.uow() as uow:
        assert obs_svc.start(uow, village_obs, town).status == "in_progress"
    fill(any_sanhu, village_obs, town)
    with any_sanhu.uow() as uow:
        obs_svc.submit(uow, village_obs, town)
    with any_sanhu.uow() as uow:
        obs_svc.revise(uow, village_obs, town, reason="谈话记录不全")
    with any_sanhu.uow() as uow:
        obs_svc.submit(uow, village_obs, town)
    with any_sanhu.uow() as uow:
        result = obs_svc.confirm(uow, village_obs, town)
    assert (result.status, result.version) == ("confirmed", 6)
    with any_sanhu.uow() as uow:
        assert uow.session.get(Observation, village_obs).confirmed_at is not None
        assert allowed_events(uow.session.get(Observation, village_obs), town,
                              uow.context()) == []
        assert allowed_events(uow.session.get(Observation, village_obs), county,
                              uow.context()) == ["reopen"]
    with any_sanhu.uow() as uow, pytest.raises(ValidationError) as refused:
        obs_svc.reopen(uow, village_obs, county, reason="  ")
    assert refused.value.fields == {"reason": "required"}
    assert status(any_sanhu, village_obs) == ("confirmed", 6)
    with any_sanhu.uow() as uow:
        obs_svc.reopen(uow, village_obs, county, reason="得分与清单不符，重新核查")
    assert history(any_sanhu, village_obs) == [
        (2, "start", "planned", "in_progress", None),
        (3, "submit", "in_progress", "submitted", None),
        (4, "revise", "submitted", "in_progress", "谈话记录不全"),
        (5, "submit", "in_progress", "submitted", None),
        (6, "confirm", "submitted", "confirmed", None),
        (7, "reopen", "confirmed", "in_progress", "得分与清单不符，重新核查"),
    ]
    with any_sanhu.uow() as uow:
        assert uow.session.get(Observation, village_obs).confirmed_at is None


def test_only_the_observing_unit_records_and_only_the_level_above_reopens(
        any_sanhu, any_world, village_obs, township_obs):
    w = any_world
    # the county may not start a township's observation of its village, nor a supervisor
    for name in ("county_K1", "sup_K1", "city"):
        with any_sanhu.uow() as uow, pytest.raises(PermissionDenied):
            obs_svc.start(uow, village_obs, w[name])
    # the township may not start the county's observation of itself
    with any_sanhu.uow() as uow, pytest.raises(PermissionDenied):
        obs_svc.start(uow, township_obs, w["town_T11"])
    for obs_id, observer in ((village_obs, "town_T11"), (township_obs, "county_K1")):
        with any_sanhu.uow() as uow:
            obs_svc.start(uow, obs_id, w[observer])
        fill(any_sanhu, obs_id, w[observer])
        for step in (obs_svc.submit, obs_svc.confirm):
            with any_sanhu.uow() as uow:
                step(uow, obs_id, w[observer])
    # reopen: the observer itself, a level too high or the wrong role may not
    for obs_id, name in ((village_obs, "town_T11"), (village_obs, "city"),
                         (village_obs, "sup_K1"), (township_obs, "county_K1")):
        with any_sanhu.uow() as uow, pytest.raises(PermissionDenied):
            obs_svc.reopen(uow, obs_id, w[name], reason="复核")
    with any_sanhu.uow() as uow:
        assert obs_svc.reopen(uow, township_obs, w["city"], reason="复核").status == "in_progress"
    # a confirmed record cannot be confirmed or submitted again
    with any_sanhu.uow() as uow, pytest.raises(InvalidTransition):
        obs_svc.confirm(uow, village_obs, w["town_T11"])


def test_out_of_scope_and_unfinished_records_are_not_found(any_sanhu, any_world, village_obs):
    w = any_world
    for name in ("town_T12", "county_K2", "sec_V112"):
        with any_sanhu.uow() as uow, pytest.raises(NotFound):
            obs_svc.get_observation(uow, village_obs, w[name])
    # the village's secretary sees nothing while the visit is planned or in progress
    with any_sanhu.uow() as uow, pytest.raises(NotFound):
        obs_svc.get_observation(uow, village_obs, w["sec_V111"])
    with any_sanhu.uow() as uow, pytest.raises(NotFound):
        obs_svc.start(uow, village_obs, w["sec_V111"])
    with any_sanhu.uow() as uow:
        obs_svc.start(uow, village_obs, w["town_T11"])
    fill(any_sanhu, village_obs, w["town_T11"])
    for step in (obs_svc.submit, obs_svc.confirm):
        with any_sanhu.uow() as uow:
            step(uow, village_obs, w["town_T11"])
    with any_sanhu.uow() as uow:
        assert obs_svc.get_observation(uow, village_obs, w["sec_V111"]).status == "confirmed"
    with any_sanhu.uow() as uow, pytest.raises(PermissionDenied):
        obs_svc.reopen(uow, village_obs, w["sec_V111"], reason="不同意")
    for bad in (None, "abc", 10**9):
        with any_sanhu.uow() as uow, pytest.raises(NotFound):
            obs_svc.get_observation(uow, bad, w["town_T11"])


def test_a_stale_version_is_a_conflict_and_changes_nothing(any_sanhu, any_world, village_obs):
    town = any_world["town_T11"]
    with any_sanhu.uow() as uow:
        obs_svc.start(uow, village_obs, town, expected_version=1)
    fill(any_sanhu, village_obs, town)
    with any_sanhu.uow() as uow, pytest.raises(Conflict):
        obs_svc.submit(uow, village_obs, town, expected_version=1)
    assert status(any_sanhu, village_obs) == ("in_progress", 2)
    assert [h[1] for h in history(any_sanhu, village_obs)] == ["start"]


def test_a_concurrent_change_between_read_and_write_is_a_conflict(any_sanhu, any_world,
                                                                   village_obs):
    town = any_world["town_T11"]
    with any_sanhu.uow() as uow:
        obs_svc.start(uow, village_obs, town)
    fill(any_sanhu, village_obs, town)
    with any_sanhu.uow() as first:
        # read version 2 and hold it, as a request does between its read and its write
        held = obs_svc.get_observation(first, village_obs, town)
        with any_sanhu.uow() as second:
            obs_svc.submit(second, village_obs, town)
        with pytest.raises(Conflict):
            obs_svc.submit(first, village_obs, town)
        assert held.id == village_obs
    assert status(any_sanhu, village_obs) == ("submitted", 3)
    assert [h[1] for h in history(any_sanhu, village_obs)] == ["start", "submit"]


def test_the_history_refuses_update_and_delete(any_sanhu, any_world, village_obs):
    with any_sanhu.uow() as uow:
        obs_svc.start(uow, village_obs, any_world["town_T11"])
    for statement in ("UPDATE observation_events SET note = 'x'",
                      "DELETE FROM observation_events"):
        with any_sanhu.uow() as uow, pytest.raises(DBAPIError, match="append-only"):
            uow.session.execute(text(statement))
    assert len(history(any_sanhu, village_obs)) == 1


def test_the_observation_diagram_is_drawn_from_the_rules():
    diagram = observation_mermaid()
    for line in ("planned --> in_progress: start", "in_progress --> submitted: submit",
                 "submitted --> confirmed: confirm", "confirmed --> in_progress: reopen",
                 "submitted --> in_progress: revise"):
        assert line in diagram
