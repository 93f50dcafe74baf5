"""The home page per role: exactly the role's sections, each within the user's scope."""

from __future__ import annotations

import datetime as dt
import re
import struct
import zlib

import pytest
import time_machine
from sqlalchemy import update

from ledger.core.models import Item
from ledger.items import services as svc

CREATED = dt.datetime(2026, 11, 2, 1, 0, tzinfo=dt.UTC)  # Monday 09:00 in Shanghai
VIEWED = dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)  # deadlines of 5 days have passed
VILLAGES = ("V111", "V112", "V121", "V211")
STEPS = ("found", "assigned", "rectifying", "rejected", "submitted", "verified")


def png() -> bytes:
    def chunk(tag: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))


def make_item(sanhu, world, village: str, step: str) -> str:
    """An item of ``village`` taken as far as ``step``; returns its number."""
    town, sec = world[f"town_T{village[1:3]}"], world[f"sec_{village}"]
    with sanhu.uow() as uow:
        item = svc.record_finding(uow, town, unit_id=world.units[village].id,
                                  description=f"{village} 的问题 {step}")
    chain = [s for s in STEPS[1:STEPS.index(step) + 1] if s != "rejected"]
    if step == "rejected":  # submitted, then sent back
        chain = ["assigned", "rectifying", "submitted", "rejected"]
    for done in chain:
        with sanhu.uow() as uow:
            if done == "assigned":
                svc.assign(uow, item.id, town, responsible_user_id=sec.id, category="deadline",
                           deadline="5d")
            elif done == "rectifying":
                svc.accept(uow, item.id, sec, measures="立即整改")
            elif done == "submitted":
                svc.submit(uow, item.id, sec, note="已完成", uploads=[svc.Upload(png(), "a.png")])
            elif done == "rejected":
                svc.reject(uow, item.id, town, reason="照片不清楚")
            elif done == "verified":
                svc.verify(uow, item.id, town, method="实地查看", note="属实")
    return item.number


@pytest.fixture
def ledger(sanhu, world):
    """Items in every step in four villages (two townships, two counties), and one
    finding against township T11 itself; keys like ``("V111", "submitted")``."""
    with time_machine.travel(CREATED, tick=False):
        numbers = {(v, step): make_item(sanhu, world, v, step)
                   for v in VILLAGES for step in STEPS}
        with sanhu.uow() as uow:
            numbers[("T11", "found")] = svc.record_finding(
                uow, world["county_K1"], unit_id=world.units["T11"].id,
                description="乡镇本级问题").number
    return numbers


def home(signed_in, name: str) -> dict[str, str]:
    """The home page of ``name`` as {section id: its html}."""
    with time_machine.travel(VIEWED, tick=False):
        response = signed_in(name).get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    parts = re.split(r'<section id="', html)[1:]
    return {p.split('"', 1)[0]: p for p in parts}


def numbers_in(html: str) -> set[str]:
    return set(re.findall(r"\b2026-[A-Z0-9]+-\d{3}\b", html))


def expect(ledger, *keys) -> set[str]:
    return {ledger[k] for k in keys}


def test_a_village_secretary_sees_tasks_to_accept_in_progress_rejected_and_awaiting(
        ledger, signed_in):
    page = home(signed_in, "sec_V111")
    assert list(page) == ["to-accept", "in-progress", "rejected-back", "awaiting-verification",
                          "village-panel"]  # the village's figures after its tasks
    assert numbers_in(page["to-accept"]) == expect(ledger, ("V111", "assigned"))
    # an item sent back is in its own section only
    assert numbers_in(page["in-progress"]) == expect(ledger, ("V111", "rectifying"))
    assert numbers_in(page["rejected-back"]) == expect(ledger, ("V111", "rejected"))
    assert numbers_in(page["awaiting-verification"]) == expect(ledger, ("V111", "submitted"))


def test_a_village_secretary_sees_each_item_once(ledger, signed_in):
    page = home(signed_in, "sec_V111")
    rows = [n for html in page.values() for n in re.findall(
        r'<a class="mono" href="/items/\d+">([^<]+)</a>', html)]
    assert ledger[("V111", "rejected")] in rows
    assert len(rows) == len(set(rows)) == 4


def test_township_staff_see_findings_to_assign_submissions_to_verify_and_counts(
        ledger, signed_in):
    page = home(signed_in, "town_T11")
    assert list(page) == ["counts", "to-assign", "to-verify"]
    # the finding against the township itself is the county's to assign, not theirs
    assert numbers_in(page["to-assign"]) == expect(ledger, ("V111", "found"), ("V112", "found"))
    assert numbers_in(page["to-verify"]) == expect(ledger, ("V111", "submitted"),
                                                   ("V112", "submitted"))


def test_county_staff_also_see_verified_items_to_close(ledger, signed_in):
    page = home(signed_in, "county_K1")
    assert list(page) == ["counts", "to-assign", "to-verify", "to-close"]
    assert numbers_in(page["to-assign"]) == expect(
        ledger, ("V111", "found"), ("V112", "found"), ("V121", "found"), ("T11", "found"))
    assert numbers_in(page["to-close"]) == expect(
        ledger, ("V111", "verified"), ("V112", "verified"), ("V121", "verified"))


def test_the_counts_are_per_status_in_scope_and_link_to_the_filtered_list(ledger, signed_in):
    counts = home(signed_in, "town_T11")["counts"]
    links = dict((st, (href, n)) for st, href, n in re.findall(
        r'count-(\w+)" href="([^"]+)">[^<]*<span[^>]*>([\d,+]+)<', counts))
    assert set(links) == {"found", "assigned", "rectifying", "submitted", "verified", "closed"}
    href, n = links["found"]
    assert href.startswith("/ledger/") and "status=found" in href
    assert n == "3"  # V111, V112 and the township's own finding; nothing of T12
    assert links["rectifying"][1] == "4" and links["closed"][1] == "0"


def test_city_staff_see_counts_and_the_overdue_items_of_the_city(ledger, signed_in):
    page = home(signed_in, "city")
    assert list(page) == ["counts", "overdue"]
    overdue = expect(ledger, *((v, s) for v in VILLAGES
                               for s in ("assigned", "rectifying", "rejected")))
    shown = numbers_in(page["overdue"])
    assert len(shown) == 10 and shown <= overdue
    assert re.search(r'section-total">12<', page["overdue"])
    assert "逾期 11 天" in page["overdue"]


def test_a_supervisor_sees_the_overdue_items_of_their_county_only(ledger, signed_in):
    page = home(signed_in, "sup_K1")
    assert list(page) == ["overdue"]
    assert numbers_in(page["overdue"]) == expect(
        ledger, *((v, s) for v in ("V111", "V112", "V121")
                  for s in ("assigned", "rectifying", "rejected")))
    link = re.search(r'class="small see-all" href="([^"]+)"', page["overdue"]).group(1)
    assert "overdue=1" in link


@pytest.mark.parametrize("name, outside", [
    ("sec_V111", ("V112", "V121", "V211")),
    ("town_T11", ("V121", "V211")),
    ("county_K1", ("V211",)),
    ("sup_K1", ("V211",)),
])
def test_no_home_page_shows_an_item_of_another_unit(ledger, signed_in, name, outside):
    shown = set().union(*(numbers_in(html) for html in home(signed_in, name).values()))
    foreign = {n for (unit, _), n in ledger.items() if unit in outside}
    assert shown and not shown & foreign


def test_an_administrator_is_sent_to_the_administration(signed_in):
    response = signed_in("admin").get("/")
    assert response.status_code == 302 and response.location.endswith("/admin/")


def test_a_section_shows_ten_rows_the_total_and_a_link_to_all(sanhu, world, signed_in):
    with time_machine.travel(CREATED, tick=False):
        for _ in range(12):
            make_item(sanhu, world, "V111", "found")
    section = home(signed_in, "town_T11")["to-assign"]
    assert len(numbers_in(section)) == 10
    assert re.search(r'section-total">12<', section)
    link = re.search(r'class="small see-all" href="([^"]+)"', section).group(1)
    assert link.startswith("/ledger/") and "status=found" in link


def test_rows_link_to_the_item_and_show_deadline_light_and_provisional_badge(
        sanhu, world, signed_in):
    with time_machine.travel(CREATED, tick=False):
        number = make_item(sanhu, world, "V111", "assigned")
    with sanhu.uow() as uow:
        uow.session.execute(update(Item).where(Item.number == number)
                            .values(deadline_provisional=True))
        item_id = uow.session.query(Item.id).filter(Item.number == number).scalar()
        uow.commit()
    section = home(signed_in, "sec_V111")["to-accept"]
    assert f'href="/items/{item_id}"' in section
    assert "2026年11月9日" in section  # 5 days from Monday 2 November: Saturday, moved to Monday
    assert "暂定" in section and 'class="light red"' in section
    assert "逾期 11 天" in section


def test_an_empty_section_says_so_and_english_is_available(world, signed_in):
    client = signed_in("sec_V111")
    client.set_cookie("sanhu_lang", "en")
    html = client.get("/").get_data(as_text=True)
    assert "To accept" in html and "Nothing to do here." in html


def test_township_staff_see_their_own_townships_findings_to_rectify(sanhu, world, signed_in):
    with sanhu.uow() as uow:
        own = svc.record_finding(uow, world["county_K1"], unit_id=world.units["T11"].id,
                                 description="乡镇党委制度不全")
    with sanhu.uow() as uow:
        svc.assign(uow, own.id, world["county_K1"], responsible_user_id=world["town_T11"].id,
                   category="deadline", deadline="10w")
    html = signed_in("town_T11").get("/").get_data(as_text=True)
    assert "本单位待签收的问题" in html and own.number in html
    other = signed_in("town_T12").get("/").get_data(as_text=True)
    assert "本单位待签收的问题" not in other and own.number not in other
