"""The menu marks the one entry the page belongs to (an item's page is part of the ledger)."""

from __future__ import annotations

import re

import pytest

from ledger.items import services as svc


def active_entries(html: str) -> list[str]:
    """The labels of the menu entries marked as the current page."""
    return re.findall(r'<a class="nav-link[^"]*\bactive"[^>]*aria-current="page">([^<]+)</a>',
                      html)


@pytest.fixture
def item_id(sanhu, world) -> int:
    with sanhu.uow() as uow:
        item = svc.record_finding(uow, world["town_T11"], unit_id=world.units["V111"].id,
                                  description="党员活动室制度未上墙")
    with sanhu.uow() as uow:
        svc.assign(uow, item.id, world["town_T11"], responsible_user_id=world["sec_V111"].id,
                   category="deadline", deadline="10d")
    return item.id


@pytest.mark.parametrize("who", ["county_K1", "town_T11", "sec_V111", "sup_K1"])
def test_an_item_page_highlights_the_ledger_entry_only(signed_in, item_id, who):
    response = signed_in(who).get(f"/items/{item_id}")
    assert response.status_code == 200
    assert active_entries(response.get_data(as_text=True)) == ["台账"]


def test_the_ledger_import_highlights_the_ledger_and_recording_its_own_entry(signed_in):
    client = signed_in("county_K1")
    response = client.get("/items/import")
    assert response.status_code == 200
    assert active_entries(response.get_data(as_text=True)) == ["台账"]
    html = client.get("/items/new").get_data(as_text=True)
    assert active_entries(html) == ["登记问题"]


def test_the_ledger_and_the_home_page_highlight_their_own_entries(signed_in):
    client = signed_in("county_K1")
    assert active_entries(client.get("/ledger/").get_data(as_text=True)) == ["台账"]
    assert active_entries(client.get("/").get_data(as_text=True)) == ["首页"]


def test_a_page_of_the_liaisons_highlights_that_entry_alone(signed_in):
    html = signed_in("county_K1").get("/observations/liaisons").get_data(as_text=True)
    assert active_entries(html) == ["分包联系"]
