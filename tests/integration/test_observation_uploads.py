"""Observation photos and plan attachments reach the evidence store only with their row
(security point 5), and a name contradicting the content is refused (point 6)."""

from __future__ import annotations

from pathlib import Path

import pytest
from observation_helpers import observation_of, standard_ids
from samples import make_png

from ledger.core.errors import EvidenceRejected, PermissionDenied, ValidationError
from ledger.observations import planning, record
from ledger.observations import services as obs_svc
from ledger.observations.access import get_observation


def everything(sanhu) -> list[Path]:
    root = Path(sanhu.settings.evidence_dir)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.fixture
def obs(any_sanhu, any_world) -> int:
    oid = observation_of(any_sanhu, any_world, "village_quarterly", "2026Q4", "V111")
    with any_sanhu.uow() as uow:
        obs_svc.start(uow, oid, any_world["town_T11"])
    return oid


def test_a_photo_the_record_refuses_leaves_no_file(any_sanhu, any_world, obs):
    town = any_world["town_T11"]
    before = everything(any_sanhu)
    with any_sanhu.uow() as uow, pytest.raises(ValidationError):  # not on the checklist
        record.attach(uow, obs, town, data=make_png(1), filename="a.png", standard_id=10**6)
    with any_sanhu.uow() as uow, pytest.raises(EvidenceRejected):  # a PNG called .exe
        record.attach(uow, obs, town, data=make_png(2), filename="setup.exe")
    assert everything(any_sanhu) == before
    sid = standard_ids(any_sanhu, obs)["basic:1"]
    with any_sanhu.uow() as uow:
        record.attach(uow, obs, town, data=make_png(3), filename="活动室.png", standard_id=sid)
    assert len(everything(any_sanhu)) == len(before) + 1


def test_a_plan_attachment_of_someone_not_planning_leaves_no_file(any_sanhu, any_world, obs):
    with any_sanhu.uow() as uow:
        cycle = get_observation(uow, obs, any_world["town_T11"]).cycle_id
    before = everything(any_sanhu)
    with any_sanhu.uow() as uow, pytest.raises(PermissionDenied):
        planning.attach_plan_file(uow, cycle, any_world["county_K1"], data=make_png(4),
                                  filename="方案.png")
    with any_sanhu.uow() as uow, pytest.raises(EvidenceRejected):
        planning.attach_plan_file(uow, cycle, any_world["town_T11"], data=make_png(5),
                                  filename="方案.pdf")
    assert everything(any_sanhu) == before
