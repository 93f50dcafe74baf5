"""The 登记 form's one-time token: posting the same form twice records one problem."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from ledger.core.models import Item


def form_of(client) -> dict:
    html = client.get("/items/new").get_data(as_text=True)
    fields = dict(re.findall(r'<input[^>]*name="(csrf_token|form_token)"[^>]*value="([^"]+)"',
                             html))
    assert set(fields) == {"csrf_token", "form_token"}, "the form carries both tokens"
    return fields


def test_posting_the_same_form_twice_records_one_item_and_shows_it(sanhu, world, signed_in):
    town = signed_in("town_T11")
    tokens = form_of(town)
    assert form_of(town)["form_token"] != tokens["form_token"]  # a new one per page
    form = {**tokens, "unit_id": world.units["V111"].id, "standard_id": 0, "cycle_id": 0,
            "source": "observation", "severity": "normal", "description": "三会一课记录不全",
            "category": "deadline", "deadline": "5w"}
    first = town.post("/items/new", data=form)
    assert "未重复登记" not in town.get(first.headers["Location"]).get_data(as_text=True)
    again = town.post("/items/new", data=form)
    assert first.status_code == again.status_code == 302
    assert again.headers["Location"] == first.headers["Location"]
    with sanhu.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Item)) == 1
        number, state = uow.session.execute(select(Item.number, Item.state)).one()
    assert state == "assigned"  # assigned once; the repeat did not try again
    html = town.get(again.headers["Location"]).get_data(as_text=True)
    assert number in html and "未重复登记" in html
