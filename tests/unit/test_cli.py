"""The ``sanhu`` command, run as a user would (click's runner, a real SQLite file)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from ledger.items.workflow import EVENTS, STATES
from web.cli.commands import main


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


def test_standards_json_lists_65_entries_with_exactly_the_five_keys(run):
    entries = json.loads(run("standards", "--json").output)
    assert len(entries) == 65
    assert {tuple(e) for e in entries} == {("set", "number", "category", "title", "text")}
    assert [e["set"] for e in entries].count("demonstration") == 23
    last = entries[-1]
    assert (last["set"], last["number"]) == ("demonstration", 23)
    assert last["category"] == "示范带动作用显著"


def test_workflow_mermaid_names_every_state_and_event(run):
    text = run("workflow", "--mermaid").output
    assert text.startswith("stateDiagram-v2")
    for name in (*STATES, *EVENTS):
        assert name in text


def test_db_upgrade_then_add_workdays_across_the_year_says_provisional(run):
    run("db", "upgrade")
    assert run("calendar", "add-workdays", "2026-12-28", "5").output.strip() \
        == "2027-01-04 provisional"
    assert run("calendar", "add-workdays", "2026-09-30", "1").output.strip() == "2026-10-08"


def test_calendar_import_makes_a_year_official(run, tmp_path):
    run("db", "upgrade")
    csv = tmp_path / "2027.csv"
    csv.write_text("date,kind,name\n2027-01-01,holiday,元旦\n", encoding="utf-8")
    assert "2027" in run("calendar", "import", str(csv)).output
    assert run("calendar", "add-workdays", "2026-12-28", "5").output.strip() == "2027-01-05"
    assert "2027 official" in run("calendar", "years").output


def test_calendar_import_with_bad_rows_imports_nothing_and_names_each_line(run, tmp_path):
    run("db", "upgrade")
    csv = tmp_path / "bad.csv"
    csv.write_text("date,kind\n2027-01-01,holiday\n2027-13-01,holiday\n2027-02-03,maybe\n",
                   encoding="utf-8")
    result = run("calendar", "import", str(csv), ok=False)
    assert result.exit_code == 1
    assert "line 3" in result.output and "line 4" in result.output
    assert "line 2" not in result.output
    assert "2027 provisional" in run("calendar", "years").output


def test_opening_a_cycle_twice_creates_it_once(run):
    run("db", "upgrade")
    assert "opened" in run("open-cycle", "village_quarterly", "2026Q4").output
    assert "already open" in run("open-cycle", "village_quarterly", "2026Q4").output
    bad = run("open-cycle", "village_quarterly", "2026Q5", ok=False)
    assert bad.exit_code != 0 and "2026Q4" in bad.output


def test_demo_loads_once_and_prints_a_login_for_every_role(run):
    run("db", "upgrade")
    out = run("demo", "--if-empty").output
    for role in ("admin", "city_staff", "supervisor", "county_staff", "township_staff",
                 "village_secretary"):
        assert role in out
    assert "sanhu-demo-2026" in out
    assert "not loaded" in run("demo", "--if-empty").output


@pytest.mark.parametrize("flag, lines", [
    ("--ranking", ("draft --> approved: approve", "approved --> published: publish",
                   "approved --> draft: revise")),
    ("--survey", ("stateDiagram-v2",)),
    ("--funds", ("draft --> approved: approve", "approved --> draft: reopen",
                 "draft --> draft: save")),
    ("--report", ("draft --> submitted: submit", "returned --> submitted: submit",
                  "submitted --> received: receive", "submitted --> returned: return")),
])
def test_the_ranking_and_survey_diagrams_come_from_their_rules(run, flag, lines):
    text = run("workflow", "--mermaid", flag).output
    for line in lines:
        assert line in text
