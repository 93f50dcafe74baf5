"""The 以奖代补 page through the Flask client: the rule form, the table, approval by a
colleague, the frozen table, refused input shown beside the field with what was
typed kept, scope, CSRF and the .xlsx download."""

from __future__ import annotations

import io
import re

import openpyxl
import pytest
from funds_helpers import publish_correction, publish_t11
from sqlalchemy import func, select
from web_fixtures import csrf_token

from ledger.core.models import FundsPlan, FundsRow

CLASS_FORM = {"kind": "class", "demonstration": "5000", "middle": "2000", "lagging": "500.5"}


@pytest.fixture
def setup(sanhu, world):
    return publish_t11(sanhu, world)


@pytest.fixture
def page(setup) -> str:
    return f"/results/rankings/{setup['ranking']}/funds"


def saved(sanhu) -> tuple[int, int]:
    with sanhu.uow() as uow:
        return (uow.session.scalar(select(func.count()).select_from(FundsPlan)),
                uow.session.scalar(select(func.count()).select_from(FundsRow)))


def version_of(html: str) -> str:
    return re.search(r'name="expected_version"[^>]*value="(\d+)"', html).group(1)


def test_the_funds_rule_table_and_approval_through_the_page(signed_in, sanhu, setup, page):
    town = signed_in("town_T11")
    ranking = town.get(f"/results/cycles/{setup['cycle']}/ranking").get_data(as_text=True)
    assert f'href="{page}"' in ranking and 'id="funds-link"' in ranking
    html = town.get(page).get_data(as_text=True)
    assert 'id="funds-form"' in html and 'id="no-funds"' in html
    token = csrf_token(town, page)
    assert town.post(page, data={"csrf_token": token, **CLASS_FORM}).status_code == 302
    html = town.get(page).get_data(as_text=True)
    assert html.count('class="funds-row"') == 2 and 'id="funds-total">5,500.50<' in html
    assert "按类别" in html and "村112" in html
    # the author cannot approve: no button, and a forged post is refused with the reason
    assert 'id="funds-approve"' not in html
    refused = town.post(page + "/approve", data={"csrf_token": token,
                                                 "expected_version": version_of(html)})
    assert refused.status_code == 409 and "其他工作人员" in refused.get_data(as_text=True)
    leader = signed_in("leader_T11")
    html = leader.get(page).get_data(as_text=True)
    assert 'id="funds-approve"' in html
    assert leader.post(page + "/approve", data={"csrf_token": csrf_token(leader, page),
                                                "expected_version": version_of(html)}
                       ).status_code == 302
    html = town.get(page).get_data(as_text=True)
    assert 'id="funds-status">已审定<' in html and 'id="funds-form"' not in html
    frozen = town.post(page, data={"csrf_token": token, **CLASS_FORM, "middle": "1"})
    assert frozen.status_code == 409 and "已冻结" in frozen.get_data(as_text=True)
    with sanhu.uow() as uow:
        assert uow.session.scalar(select(FundsPlan.status)) == "approved"


@pytest.mark.parametrize(("form", "message", "kept"), [
    ({**CLASS_FORM, "middle": "-5"}, "金额不能为负数", 'value="-5"'),
    ({**CLASS_FORM, "lagging": "五百元"}, "请输入数字", 'value="五百元"'),
    ({**CLASS_FORM, "demonstration": "200000000"}, "最多 100,000,000 元",
     'value="200000000"'),
    ({"kind": "pool", "total": "0", "who": "all"}, "资金池须大于 0 元", 'value="0"'),
    ({"kind": "band", "bands-0-from_rank": "1", "bands-0-to_rank": "3",
      "bands-0-amount": "3000", "bands-1-from_rank": "2", "bands-1-to_rank": "5",
      "bands-1-amount": "1000"}, "与上一名次段重叠", 'value="1000"'),
    ({"kind": "band", "bands-0-from_rank": "1", "bands-0-to_rank": "3",
      "bands-0-amount": "3000", "bands-1-from_rank": "6", "bands-1-to_rank": "9",
      "bands-1-amount": "1000"}, "不能有间断", 'value="6"'),
])
def test_bad_input_is_refused_beside_the_field_and_what_was_typed_is_kept(
        signed_in, sanhu, setup, page, form, message, kept):
    town = signed_in("town_T11")
    refused = town.post(page, data={"csrf_token": csrf_token(town, page), **form})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400 and 'id="funds-refusal"' in html
    assert message in html and 'class="invalid-feedback d-block field-error"' in html
    assert kept in html and f'value="{form["kind"]}" checked' in html
    assert saved(sanhu) == (0, 0)


def test_who_reads_who_sets_and_forms_need_their_token(signed_in, sanhu, setup, page):
    town = signed_in("town_T11")
    assert town.post(page, data=CLASS_FORM).status_code == 400  # no CSRF token
    assert saved(sanhu) == (0, 0)
    town.post(page, data={"csrf_token": csrf_token(town, page), **CLASS_FORM})
    county = signed_in("county_K1")
    html = county.get(page).get_data(as_text=True)
    assert "村112" in html and 'id="funds-form"' not in html and 'id="funds-approve"' not in html
    assert county.get(page + ".xlsx").status_code == 200
    assert county.post(page, data={"csrf_token": csrf_token(county, page),
                                   **CLASS_FORM}).status_code == 403
    assert county.post(page + "/approve", data={
        "csrf_token": csrf_token(county, page)}).status_code == 403
    for name in ("town_T12", "sec_V111", "county_K2"):
        other = signed_in(name)
        assert other.get(page).status_code == 404
        assert other.get(page + ".xlsx").status_code == 404
        assert other.post(page, data={"csrf_token": csrf_token(other, "/"),
                                      **CLASS_FORM}).status_code == 404
    assert signed_in("sup_K1").get(page).status_code == 200
    assert saved(sanhu) == (1, 2)


def test_the_xlsx_has_a_row_per_unit_and_the_total(signed_in, setup, page):
    town = signed_in("town_T11")
    assert town.get(page + ".xlsx").status_code == 404  # no rule saved yet
    town.post(page, data={"csrf_token": csrf_token(town, page), **CLASS_FORM})
    response = town.get(page + ".xlsx")
    assert response.status_code == 200
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    rows = [r for r in sheet.iter_rows(values_only=True) if any(v is not None for v in r)]
    assert rows[0] == ("序号", "单位", "排名", "类别", "得分", "奖补金额（元）")
    assert [(r[0], r[1], r[2], r[3], r[5]) for r in rows[1:3]] == [
        (1, "村112", 1, "示范", 5000), (2, "村111", 2, "后进", 500.5)]
    assert rows[3][1] == "合计" and rows[3][5] == 5500.5
    assert "草稿" in rows[4][0]


def test_a_stale_form_and_a_corrected_ranking(signed_in, sanhu, setup, page):
    town = signed_in("town_T11")
    token = csrf_token(town, page)
    town.post(page, data={"csrf_token": token, **CLASS_FORM})
    form = {"csrf_token": token, **CLASS_FORM, "expected_version": "1", "middle": "1"}
    assert town.post(page, data=form).status_code == 302
    stale = town.post(page, data={**form, "lagging": "77"})
    html = stale.get_data(as_text=True)
    assert stale.status_code == 409 and 'value="77"' in html and "其他人" in html
    assert version_of(html) == "2"  # the form now carries the version shown
    leader = signed_in("leader_T11")
    leader.post(page + "/approve", data={"csrf_token": csrf_token(leader, page)})
    fix = publish_correction(sanhu, setup)
    html = town.get(page).get_data(as_text=True)
    assert 'id="funds-stale"' in html and 'id="funds-superseded-link"' in html
    assert 'id="funds-total">5,500.50<' in html and 'id="funds-reopen"' in html
    new_page = f"/results/rankings/{fix}/funds"
    assert 'id="funds-link"' in town.get(
        f"/results/cycles/{setup['cycle']}/ranking").get_data(as_text=True)
    assert town.post(new_page + "/reopen", data={"csrf_token": token,
                                                 "reason": "排名更正"}).status_code == 302
    assert town.post(new_page, data={"csrf_token": token, **CLASS_FORM}).status_code == 302
    html = town.get(new_page).get_data(as_text=True)
    assert 'id="funds-stale"' not in html and 'id="funds-status">草稿<' in html


def test_a_saved_band_rule_fills_the_form_again_with_room_for_more(signed_in, setup, page):
    town = signed_in("town_T11")
    bands = {"kind": "band", "bands-0-from_rank": "1", "bands-0-to_rank": "1",
             "bands-0-amount": "3000", "bands-1-from_rank": "2", "bands-1-to_rank": "9",
             "bands-1-amount": "1000.5"}
    assert town.post(page, data={"csrf_token": csrf_token(town, page), **bands}).status_code \
        == 302
    html = town.get(page).get_data(as_text=True)
    assert 'value="band" checked' in html and 'name="bands-1-amount" type="text" value="1000.50"' \
        in html and 'name="bands-4-amount"' in html
    assert "第 1 名 3,000.00 元" in html
    county = signed_in("county_K1").get(page).get_data(as_text=True)
    assert "第 2–9 名 1,000.50 元" in county and 'id="funds-total">4,000.50<' in county
