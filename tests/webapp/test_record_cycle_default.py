"""The 登记 form puts a new problem in the open cycle of the unit's kind by default (a
village's quarter, a township's half-year), so its number and 观摩周期 are right without
remembering; a cycle or source chosen on the form is kept."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from ledger.calendar.periods import period_for
from ledger.core.models import Cycle, Item
from ledger.observations.cycles import open_cycle

VQ, TH = "village_quarterly", "township_half_yearly"


@pytest.fixture
def cycles(sanhu, world) -> dict[str, Cycle]:
    """Today's village quarter and township half-year, and the quarter before (closed)."""
    with sanhu.uow() as uow:
        today = uow.today()
    earlier = today.replace(day=1) - dt.timedelta(days=95)
    opened = {}
    for name, kind, day in (("quarter", VQ, today), ("half", TH, today),
                            ("last_quarter", VQ, earlier)):
        with sanhu.uow() as uow:
            cycle_id = open_cycle(uow, kind, period_for(kind, day)).cycle_id
            opened[name] = uow.session.get(Cycle, cycle_id)
    return opened


def record(client, unit_id: int, **choices):
    page = client.get("/items/new").get_data(as_text=True)
    form = dict(re.findall(r'<input[^>]*name="(csrf_token|form_token)"[^>]*value="([^"]+)"',
                           page))
    form.update({"unit_id": unit_id, "standard_id": 0, "source": "observation",
                 "severity": "normal", "description": "三会一课记录不全", "category": "",
                 "deadline": ""})
    form.update(choices)
    response = client.post("/items/new", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return int(response.headers["Location"].rsplit("/", 1)[1])


def item(sanhu, item_id: int) -> Item:
    with sanhu.uow() as uow:
        found = uow.session.get(Item, item_id)
        uow.session.expunge(found)
        return found


def test_the_form_preselects_the_open_cycle_and_names_it(world, signed_in, cycles):
    page = signed_in("town_T11").get("/items/new").get_data(as_text=True)
    select_html = re.search(r'<select[^>]*name="cycle_id".*?</select>', page, re.S).group(0)
    first = re.search(r"<option[^>]*>([^<]*)</option>", select_html)
    assert "当前的观摩周期" in first.group(1)
    assert (f"当前观摩周期：村为 {cycles['quarter'].period}，"
            f"乡镇为 {cycles['half'].period}。") in page


def test_a_village_problem_with_no_cycle_chosen_goes_into_the_open_quarter(
        sanhu, world, signed_in, cycles):
    item_id = record(signed_in("town_T11"), world.units["V111"].id, cycle_id=0)
    found = item(sanhu, item_id)
    quarter = cycles["quarter"]
    assert re.fullmatch(r"\d{4}Q[1-4]", quarter.period)
    assert found.cycle_id == quarter.id
    assert found.number == f"{quarter.period}-V111-001"


def test_a_township_problem_goes_into_the_open_half_year(sanhu, world, signed_in, cycles):
    item_id = record(signed_in("county_K1"), world.units["T11"].id, cycle_id=0)
    found = item(sanhu, item_id)
    half = cycles["half"]
    assert found.cycle_id == half.id
    assert found.number == f"{half.period}-T11-001"


def test_a_cycle_and_a_source_chosen_on_the_form_are_kept(sanhu, world, signed_in, cycles):
    town = signed_in("town_T11")
    last = cycles["last_quarter"]
    chosen = item(sanhu, record(town, world.units["V111"].id, cycle_id=last.id,
                                source="patrol"))
    assert chosen.cycle_id == last.id and chosen.source == "patrol"
    assert chosen.number.startswith(f"{last.period}-V111-")
    none = item(sanhu, record(town, world.units["V112"].id, cycle_id=-1))
    with sanhu.uow() as uow:
        year = uow.today().year
    assert none.cycle_id is None and none.number == f"{year}-V112-001"


def test_without_an_open_cycle_the_number_keeps_the_year(sanhu, world, signed_in):
    with sanhu.uow() as uow:
        assert uow.session.scalar(select(Cycle.id)) is None
        year = uow.today().year
    found = item(sanhu, record(signed_in("town_T11"), world.units["V111"].id, cycle_id=0))
    assert found.cycle_id is None and found.number == f"{year}-V111-001"


@pytest.mark.parametrize(("kind", "periods"), [
    (VQ, ["2026Q1"] * 3 + ["2026Q2"] * 3 + ["2026Q3"] * 3 + ["2026Q4"] * 3),
    (TH, ["2026H1"] * 6 + ["2026H2"] * 6)])
def test_each_month_falls_in_its_period(kind, periods):
    assert [period_for(kind, dt.date(2026, month, 15)) for month in range(1, 13)] == periods
