"""``sanhu observations coverage``, run as a user would (click's runner, a real SQLite file)."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest
import time_machine
from click.testing import CliRunner
from sqlalchemy import select

from ledger.core.actors import Actor
from ledger.core.models import Observation, Role
from ledger.instance.bootstrap import bootstrap
from ledger.observations import services as obs_svc
from ledger.org.directory import add_unit, add_user
from web.cli.commands import main

SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.setenv("SANHU_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite'}")
    monkeypatch.setenv("SANHU_EVIDENCE_DIR", str(tmp_path / "evidence"))
    runner = CliRunner()

    def invoke(*args: str, ok: bool = True):
        result = runner.invoke(main, list(args), catch_exceptions=False)
        if ok:
            assert result.exit_code == 0, result.output
        return result

    return invoke


@pytest.fixture
def city(run):
    """A county with townships 01 (three villages) and 02 (one); 2026Q4 opened, and
    one village of 01 being observed."""
    run("db", "upgrade")
    app = bootstrap()
    with app.uow() as uow:
        s = uow.session
        c = add_unit(s, code="C", name="市", level="city")
        k = add_unit(s, code="K", name="县", level="county", parent=c)
        towns = [add_unit(s, code=f"T0{t}", name=f"乡{t}", level="township", parent=k)
                 for t in (1, 2)]
        villages = [add_unit(s, code=f"V0{v}", name=f"村{v}", level="village", parent=towns[0])
                    for v in (1, 2, 3)]
        add_unit(s, code="V04", name="村4", level="village", parent=towns[1])
        staff = Actor.of(add_user(s, username="t01", display_name="t01",
                                  role=Role.TOWNSHIP_STAFF, unit=towns[0],
                                  password="pw-for-tests-1"), towns[0])
        uow.commit()
        first = villages[0].id
    run("open-cycle", "village_quarterly", "2026Q4")
    with app.uow() as uow:
        obs = uow.session.scalar(select(Observation.id).where(Observation.unit_id == first))
        obs_svc.start(uow, obs, staff)
    app.dispose()


def at(day: str) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(9), tzinfo=SH)


def test_coverage_json_has_one_row_per_observing_unit_with_the_agreed_keys(run, city):
    with time_machine.travel(at("2026-11-16"), tick=False):
        rows = json.loads(run("observations", "coverage", "2026Q4", "--json").output)
    assert rows == [
        {"unit_code": "T01", "unit_name": "乡1", "planned": 3, "scheduled": 0,
         "in_progress": 1, "submitted": 0, "confirmed": 0, "late": 0},
        {"unit_code": "T02", "unit_name": "乡2", "planned": 1, "scheduled": 0,
         "in_progress": 0, "submitted": 0, "confirmed": 0, "late": 0},
    ]


def test_after_the_period_the_unconfirmed_are_late(run, city):
    with time_machine.travel(at("2027-01-04"), tick=False):
        rows = json.loads(run("observations", "coverage", "2026Q4", "--kind",
                              "village_quarterly", "--json").output)
    assert [(r["unit_code"], r["late"]) for r in rows] == [("T01", 3), ("T02", 1)]


def test_coverage_as_text_ends_with_the_total(run, city):
    lines = run("observations", "coverage", "2026Q4").output.splitlines()
    assert lines[0].split() == ["unit", "planned", "scheduled", "in_progress", "submitted",
                                "confirmed", "late"]
    assert lines[1].split()[:3] == ["T01", "乡1", "3"]
    assert lines[-1].split()[:2] == ["合计", "4"]


def test_a_bad_period_or_a_cycle_not_opened_is_refused(run, city):
    bad = run("observations", "coverage", "2026Q5", ok=False)
    assert bad.exit_code == 2 and "2026Q4" in bad.output
    mismatch = run("observations", "coverage", "2026Q4", "--kind", "township_half_yearly",
                   ok=False)
    assert mismatch.exit_code == 2 and "2026H2" in mismatch.output
    missing = run("observations", "coverage", "2026H2", ok=False)
    assert missing.exit_code == 1 and "no township_half_yearly cycle 2026H2" in missing.output
