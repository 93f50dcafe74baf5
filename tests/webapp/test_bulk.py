"""Bulk assign, verify and close from the ledger list: per-item results, confirm step, roles."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from web_fixtures import csrf_token

from ledger.core.models import Item, Role
from ledger.items import services as svc
from ledger.org.directory import add_user

PDF = b"%PDF-1.4\n%%EOF\n"
NOON_UTC = dt.time(4, 0, tzinfo=dt.UTC)  # 12:00 in Asia/Shanghai


def record(app, world, village: str, desc: str = "问题") -> int:
    with app.uow() as uow:
        return svc.record_finding(uow, world[f"town_T{village[1:3]}"],
                                  unit_id=world.units[village].id, description=desc).id


def to_submitted(app, world, item_id: int, village: str, upto: str = "submitted") -> None:
    town, sec = world[f"town_T{village[1:3]}"], world[f"sec_{village}"]
    steps = [
        ("assigned", lambda uow: svc.assign(uow, item_id, town, responsible_user_id=sec.id,
                                            category="deadline", deadline="10d")),
        ("rectifying", lambda uow: svc.accept(uow, item_id, sec, measures="整改")),
        ("submitted", lambda uow: svc.submit(uow, item_id, sec, note="完成",
                                             uploads=[svc.Upload(PDF, "a.pdf")])),
        ("verified", lambda uow: svc.verify(uow, item_id, town, method="查看", note="属实")),
    ]
    for name, step in steps:
        with app.uow() as uow:
            step(uow)
        if name == upto:
            return


def item(app, item_id: int) -> Item:
    with app.uow() as uow:
        return uow.session.get(Item, item_id)


def post_bulk(client, action: str, ids, **fields):
    token = csrf_token(client, "/ledger/")
    data = {"csrf_token": token, "action": action, "ids": [str(i) for i in ids],
            "back": "/ledger/?status=found", **fields}
    return client.post("/ledger/bulk", data=data)


def results(html: str) -> dict[str, str]:
    """Number (or #id) → "ok" or the refusal text, from the results page."""
    out = {}
    for row in re.findall(r'<tr class="[^"]*result-row".*?</tr>', html, re.S):
        number = re.search(r'<td class="mono">(?:<a [^>]+>)?([^<]+)<', row).group(1)
        refusal = re.search(r'class="refusal">([^<]+)<', row)
        out[number] = refusal.group(1) if refusal else "ok"
    return out


def number(app, item_id: int) -> str:
    return item(app, item_id).number


def test_bulk_assign_reports_each_item_and_changes_only_those_that_may_change(
        sanhu, world, signed_in):
    a, b = record(sanhu, world, "V111", "甲"), record(sanhu, world, "V112", "乙")
    taken = record(sanhu, world, "V111", "丙")
    to_submitted(sanhu, world, taken, "V111", upto="assigned")
    foreign = record(sanhu, world, "V121", "邻乡")  # township T12: not town_T11's
    deadline = (sanhu.uow().today() + dt.timedelta(days=30)).isoformat()
    response = post_bulk(signed_in("town_T11"), "assign", [a, b, taken, foreign, 999999],
                         category="immediate", deadline=deadline, note="限期整改")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    got = results(html)
    assert got[number(sanhu, a)] == "ok" and got[number(sanhu, b)] == "ok"
    assert got[number(sanhu, taken)] == "该问题当前状态下不能进行此操作。"
    # outside the scope: "not found", and its number is not shown
    assert got[f"#{foreign}"] == "未找到。" and number(sanhu, foreign) not in html
    assert got["#999999"] == "未找到。"
    assert "共 5 条，已完成 2 条。" in html
    for item_id, sec in ((a, "sec_V111"), (b, "sec_V112")):
        done = item(sanhu, item_id)
        assert (done.state, done.category, done.responsible_user_id, done.deadline.isoformat()) \
            == ("assigned", "immediate", world[sec].id, deadline)
    assert item(sanhu, foreign).state == "found" and item(sanhu, foreign).version == 1


def test_a_deadline_in_working_days_is_confirmed_with_its_computed_date_first(
        sanhu, world, signed_in):
    a = record(sanhu, world, "V111")
    # 2025-09-30: the National Day holiday follows; 5 working days end on 14 October
    # (1-8 October off, Saturday 11 October a make-up working day)
    with time_machine.travel(dt.datetime(2025, 9, 30, 4, tzinfo=dt.UTC), tick=False):
        client = signed_in("county_K1")  # sessions signed in another year would not load
        response = post_bulk(client, "assign", [a], category="deadline", deadline="5w")
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "2025年10月14日" in html and "暂定" not in html
        assert 'name="confirmed" type="hidden" value="5w"' in html \
            or re.search(r'name="confirmed"[^>]*value="5w"', html)
        assert item(sanhu, a).state == "found"  # nothing happened yet
        # the confirmed step runs it
        response = post_bulk(client, "assign", [a], category="deadline", deadline="5w",
                             confirmed="5w")
        assert results(response.get_data(as_text=True)) == {number(sanhu, a): "ok"}
    assert item(sanhu, a).deadline == dt.date(2025, 10, 14)
    assert item(sanhu, a).deadline_provisional is False


def test_a_changed_deadline_on_the_confirm_step_is_shown_again_before_it_runs(
        sanhu, world, signed_in):
    a = record(sanhu, world, "V111")
    response = post_bulk(signed_in("county_K1"), "assign", [a], category="deadline",
                         deadline="10w", confirmed="5w")
    assert response.status_code == 200 and 'class="deadline-preview' in response.get_data(
        as_text=True)
    assert item(sanhu, a).state == "found"


def test_a_deadline_in_a_year_without_official_schedule_is_marked_provisional(
        sanhu, world, signed_in):
    a = record(sanhu, world, "V111")
    year = max(2027, sanhu.uow().today().year + 1)
    with time_machine.travel(dt.datetime(year, 6, 1, 4, tzinfo=dt.UTC), tick=False):
        response = post_bulk(signed_in("county_K1"), "assign", [a], category="deadline",
                             deadline="10d")
    html = response.get_data(as_text=True)
    assert 'class="deadline-preview' in html and "暂定" in html


def test_missing_or_wrong_assign_inputs_are_shown_beside_the_fields_and_change_nothing(
        sanhu, world, signed_in):
    a = record(sanhu, world, "V111")
    client = signed_in("county_K1")
    response = post_bulk(client, "assign", [a], category="", deadline="soon")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    errors = re.findall(r'class="invalid-feedback d-block field-error">([^<]+)<', html)
    assert errors == ["此项为必填项。",
                      "请填写日期（如 2026-12-31 或 12月31日）、自然日数（如 10天 或 10d）"
                      "或工作日数（如 10个工作日 或 10w）。"]
    response = post_bulk(client, "assign", [a], category="deadline", deadline="2000-01-01")
    assert response.status_code == 400
    assert "整改时限不能早于今天。" in response.get_data(as_text=True)
    assert item(sanhu, a).state == "found"


def test_an_item_whose_unit_has_no_single_secretary_is_refused_with_a_clear_reason(
        sanhu, world, signed_in):
    with sanhu.uow() as uow:
        add_user(uow.session, username="sec_V112_b", display_name="第二书记",
                 role=Role.VILLAGE_SECRETARY, unit=uow.session.merge(world.units["V112"]),
                 password="pw-for-tests-1")
        uow.commit()
    ok, two = record(sanhu, world, "V111"), record(sanhu, world, "V112")
    deadline = (sanhu.uow().today() + dt.timedelta(days=30)).isoformat()
    response = post_bulk(signed_in("town_T11"), "assign", [ok, two], category="deadline",
                         deadline=deadline)
    got = results(response.get_data(as_text=True))
    assert got[number(sanhu, ok)] == "ok"
    assert "村112 没有唯一的责任人" in got[number(sanhu, two)]
    assert item(sanhu, two).state == "found"


def test_bulk_verify_needs_method_and_note_and_refuses_unsubmitted_items(
        sanhu, world, signed_in):
    sub, notyet = record(sanhu, world, "V111"), record(sanhu, world, "V112")
    to_submitted(sanhu, world, sub, "V111")
    to_submitted(sanhu, world, notyet, "V112", upto="rectifying")
    client = signed_in("town_T11")
    response = post_bulk(client, "verify", [sub, notyet], method="", verify_note="")
    assert response.status_code == 400 and item(sanhu, sub).state == "rectifying"
    response = post_bulk(client, "verify", [sub, notyet], method="onsite", verify_note="属实")
    got = results(response.get_data(as_text=True))
    assert got == {number(sanhu, sub): "ok", number(sanhu, notyet): "该问题尚未申请销号验收。"}
    assert item(sanhu, sub).state == "verified"


def test_bulk_close_is_for_county_staff_and_reports_wrong_states(sanhu, world, signed_in):
    done, fresh = record(sanhu, world, "V111"), record(sanhu, world, "V111")
    to_submitted(sanhu, world, done, "V111", upto="verified")
    assert post_bulk(signed_in("town_T11"), "close", [done]).status_code == 403
    assert item(sanhu, done).state == "verified"
    response = post_bulk(signed_in("county_K1"), "close", [done, fresh], close_note="验收合格")
    got = results(response.get_data(as_text=True))
    assert got[number(sanhu, done)] == "ok" and got[number(sanhu, fresh)] != "ok"
    assert item(sanhu, done).state == "closed" and item(sanhu, fresh).state == "found"


@pytest.mark.parametrize(("who", "action"), [("sec_V111", "assign"), ("city", "assign"),
                                             ("sup_K1", "verify"), ("town_T11", "close")])
def test_roles_the_workflow_does_not_allow_are_refused(sanhu, world, signed_in, who, action):
    a = record(sanhu, world, "V111")
    response = post_bulk(signed_in(who), action, [a], category="deadline", deadline="10d",
                         method="onsite", verify_note="属实")
    assert response.status_code == 403
    assert item(sanhu, a).version == 1


def test_nothing_selected_returns_to_the_list_with_a_message(sanhu, world, signed_in):
    client = signed_in("county_K1")
    response = post_bulk(client, "close", [])
    assert response.status_code == 302 and response.location.endswith("/ledger/?status=found")
    assert "请至少选择一条问题" in client.get(response.location).get_data(as_text=True)


def test_a_bulk_post_without_csrf_token_is_refused(sanhu, world, signed_in):
    a = record(sanhu, world, "V111")
    response = signed_in("county_K1").post("/ledger/bulk", data={"action": "close",
                                                                 "ids": [str(a)]})
    assert response.status_code == 400


def test_the_return_link_never_leaves_the_ledger(sanhu, world, signed_in):
    client = signed_in("county_K1")
    token = csrf_token(client, "/ledger/")
    response = client.post("/ledger/bulk", data={"csrf_token": token, "action": "close",
                                                 "back": "https://evil.example/"})
    assert response.status_code == 302 and response.location.endswith("/ledger/")
