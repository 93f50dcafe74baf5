"""The survey pages (调查表) through the Flask test client: the secretary's form without
script (rows added and removed, errors beside fields, typed input kept), the township's
list and review, the county's archive, the read-only view, the .xlsx, and every refusal."""

from __future__ import annotations

import io
import re
import urllib.parse

import openpyxl
import pytest
from web_fixtures import csrf_token

from ledger.items.export import XLSX_MIMETYPE
from ledger.survey import services as svc
from ledger.survey.fields import FIELDS
from ledger.survey.models import Survey

YEAR = 2026

#: a complete form as the browser sends it (people as numbered inputs)
FORM = {
    "households": "320", "population": "1150", "poor_village": "否", "weak_lax": "否",
    "org_form": "党支部", "members_total": "42", "members_probationary": "2",
    "members_women": "9", "members_under_35": "6", "members_over_60": "15",
    "secretary_name": "王建国", "secretary_sex": "男", "secretary_age": "48",
    "secretary_education": "大专", "secretary_one_shoulder": "是", "first_secretary": "否",
    "reserve_cadres": "4", "site_area": "260.5", "congresses": "4", "committee_meetings": "12",
    "group_meetings": "14", "party_lectures": "4", "collective_income": "6.8",
    "filled_by": "王建国", "filled_on": "2026-11-30",
    "committee_members-rows": "2",
    "committee_members-0-name": "王建国", "committee_members-0-post": "书记",
    "committee_members-1-name": "", "committee_members-1-post": "",
}


def edit_url(survey_id: int) -> str:
    return f"/survey/{survey_id}/edit"


def version_in(html: str) -> str:
    return re.search(r'name="version" value="(\d+)"', html).group(1)


def load(sanhu, survey_id: int) -> Survey:
    with sanhu.uow() as uow:
        survey = uow.session.get(Survey, survey_id)
        uow.session.expunge(survey)
        return survey


@pytest.fixture
def draft(sanhu, world) -> int:
    with sanhu.uow() as uow:
        return svc.open_survey(uow, world["sec_V111"], YEAR).id


@pytest.fixture
def submitted(sanhu, world, draft) -> int:
    with sanhu.uow() as uow:
        values = {k: v for k, v in FORM.items() if "-" not in k}
        values["committee_members"] = [{"name": "王建国", "post": "书记"}]
        svc.submit(uow, draft, world["sec_V111"], values=values)
    return draft


def post_form(client, survey_id: int, form: dict, action: str = "save", version: str = "1"):
    token = csrf_token(client, f"/survey/{survey_id}")
    return client.post(edit_url(survey_id), data={**form, "csrf_token": token,
                                                  "version": version, "action": action})


# --- the menu and the secretary's pages -----------------------------------------------------


@pytest.mark.parametrize(("who", "shown"), [("sec_V111", True), ("town_T11", True),
                                            ("county_K1", True), ("city", False),
                                            ("admin", False)])
def test_the_menu_offers_the_survey_to_villages_townships_and_counties(signed_in, who, shown):
    html = signed_in(who).get("/inbox/").get_data(as_text=True)
    assert ('href="/survey/"' in html) is shown


def test_a_secretary_opens_this_years_survey_and_gets_the_form(signed_in, sanhu):
    sec = signed_in("sec_V111")
    page = sec.get("/survey/").get_data(as_text=True)
    assert 'id="open-form"' in page and "还没有调查表" in page
    opened = sec.post("/survey/open", data={"csrf_token": csrf_token(sec, "/survey/"),
                                            "year": str(YEAR)})
    assert opened.status_code == 302
    survey_id = int(re.search(r"/survey/(\d+)/edit$", opened.location).group(1))
    form = sec.get(edit_url(survey_id)).get_data(as_text=True)
    assert "《党支部基本状况及村级基本情况调查表》" in form and 'name="csrf_token"' in form
    assert form.count('class="card shadow-sm mb-3"') == 11  # one card per section
    assert 'name="site_area"' in form and ">平方米<" in form and "基本标准第24条" in form
    assert form.count('class="border rounded p-2 mb-2 person-row"') == 3  # three empty rows
    assert 'inputmode="numeric" name="members_total"' in form
    again = sec.post("/survey/open", data={"csrf_token": csrf_token(sec, "/survey/"),
                                           "year": str(YEAR)})
    assert again.location == opened.location  # one per village and year
    listing = sec.get("/survey/").get_data(as_text=True)
    assert listing.count('class="list-group-item list-group-item-action') == 1


def test_opening_a_survey_for_a_wrong_year_is_refused_on_the_page(signed_in):
    sec = signed_in("sec_V111")
    answer = sec.post("/survey/open", data={"csrf_token": csrf_token(sec, "/survey/"),
                                            "year": "1990"})
    assert answer.status_code == 400
    assert "年度须在 2000 至 2027 之间" in answer.get_data(as_text=True)


def test_staff_go_from_the_menu_to_this_years_list(signed_in):
    answer = signed_in("town_T11").get("/survey/")
    assert answer.status_code == 302 and answer.location.endswith(f"/survey/years/{YEAR}")


def test_the_secretary_saves_the_form_and_the_answers_are_stored(signed_in, sanhu, draft):
    sec = signed_in("sec_V111")
    answer = post_form(sec, draft, FORM)
    assert answer.status_code == 302 and answer.location.endswith(edit_url(draft))
    survey = load(sanhu, draft)
    assert survey.status == "draft" and survey.version == 2
    assert survey.answers["committee_members"] == [{"name": "王建国", "post": "书记"}]
    assert survey.answers["site_area"] == 260.5 and survey.answers["poor_village"] is False
    page = sec.get(edit_url(draft)).get_data(as_text=True)
    assert "已保存" in page and 'value="260.5"' in page
    assert re.search(r'<option selected>是</option>', page)


def test_wrong_answers_come_back_beside_their_fields_with_what_was_typed(signed_in, sanhu,
                                                                        draft):
    sec = signed_in("sec_V111")
    form = {**FORM, "members_total": "四十二", "site_area": "-3", "members_women": "50",
            "committee_members-0-post": "", "secretary_age": "150"}
    answer = post_form(sec, draft, form)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert "请修改标出的填报内容" in html and 'id="error-summary"' in html
    assert 'value="四十二"' in html and "请输入不小于 0 的整数" in html
    assert "不能小于 0" in html and "请输入 18 至 100 之间的数" in html
    assert "支部委员会成员 第 1 行 职务" in html and "此项为必填项" in html
    assert html.count("is-invalid") >= 4
    survey = load(sanhu, draft)
    assert (survey.version, survey.answers) == (1, {}), "nothing half-saved"


def test_a_part_larger_than_its_total_is_named(signed_in, draft):
    sec = signed_in("sec_V111")
    html = post_form(sec, draft, {**FORM, "members_women": "50"}).get_data(as_text=True)
    assert "不能多于“党员总数”" in html


def test_people_rows_are_added_and_removed_without_script_and_without_saving(signed_in, sanhu,
                                                                           draft):
    sec = signed_in("sec_V111")
    added = post_form(sec, draft, {**FORM, "committee_members-0-name": "王二"},
                      action="add:committee_members")
    html = added.get_data(as_text=True)
    assert added.status_code == 200 and "尚未保存" in html
    assert html.count('class="border rounded p-2 mb-2 person-row"') == 3
    assert 'value="王二"' in html and 'name="committee_members-rows" value="3"' in html
    removed = post_form(sec, draft, {**FORM, "committee_members-0-name": "王二"},
                        action="remove:committee_members:0")
    html = removed.get_data(as_text=True)
    assert html.count('class="border rounded p-2 mb-2 person-row"') == 1
    assert 'value="王二"' not in html
    assert post_form(sec, draft, FORM, action="remove:nothing:0").status_code == 400
    assert load(sanhu, draft).version == 1


def test_submitting_an_incomplete_survey_names_what_is_missing(signed_in, sanhu, draft):
    sec = signed_in("sec_V111")
    answer = post_form(sec, draft, {"households": "300", "committee_members-rows": "0"},
                       action="submit")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400 and "报送前请填写所有必填项" in html
    assert html.count("此项为必填项") >= len([f for f in FIELDS if f.required]) - 1
    assert 'value="300"' in html
    assert load(sanhu, draft).status == "draft"


def test_save_and_submit_hands_the_survey_to_the_township(signed_in, sanhu, draft):
    sec = signed_in("sec_V111")
    answer = post_form(sec, draft, FORM, action="submit")
    assert answer.status_code == 302 and answer.location.endswith(f"/survey/{draft}")
    page = sec.get(answer.location).get_data(as_text=True)
    assert "调查表已报送乡镇" in page and "已报送" in page and 'id="edit-link"' not in page
    assert load(sanhu, draft).status == "submitted"
    # the form is closed now: the edit page sends back to the view, a save is refused
    assert sec.get(edit_url(draft)).location.endswith(f"/survey/{draft}")
    refused = post_form(sec, draft, FORM, version="2")
    assert refused.status_code == 409 and 'class="alert alert-danger small refusal"' in \
        refused.get_data(as_text=True)


def test_a_stale_form_keeps_what_was_typed_and_offers_the_current_version(signed_in, sanhu,
                                                                          world, draft):
    sec = signed_in("sec_V111")
    with sanhu.uow() as uow:
        svc.save(uow, draft, world["sec_V111"], {"households": "100"})
    answer = post_form(sec, draft, {**FORM, "households": "333"}, version="1")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 409 and "其他人刚刚修改了这份调查表" in html
    assert 'value="333"' in html and version_in(html) == "2"
    assert load(sanhu, draft).answers == {"households": 100}


def test_a_form_without_its_csrf_token_is_refused(signed_in, sanhu, draft):
    sec = signed_in("sec_V111")
    answer = sec.post(edit_url(draft), data={**FORM, "version": "1", "action": "save"})
    assert answer.status_code == 400
    assert load(sanhu, draft).version == 1
    assert sec.post("/survey/open", data={"year": str(YEAR)}).status_code == 400


# --- the township reviews, the county archives ----------------------------------------------


def test_the_township_lists_its_villages_and_accepts_from_the_list(signed_in, sanhu,
                                                                   submitted):
    town = signed_in("town_T11")
    html = town.get(f"/survey/years/{YEAR}").get_data(as_text=True)
    assert html.count('class="survey-row"') == 2 and "村111" in html and "村121" not in html
    assert "未填报 (1)" in html and "已报送 (1)" in html
    token = csrf_token(town, f"/survey/years/{YEAR}")
    answer = town.post(f"/survey/{submitted}/events/accept",
                       data={"csrf_token": token, "expected_version": "2",
                             "back_year": str(YEAR)})
    assert answer.status_code == 302 and answer.location.endswith(f"/survey/years/{YEAR}")
    assert load(sanhu, submitted).status == "accepted"
    missing = town.get(f"/survey/years/{YEAR}?status=missing").get_data(as_text=True)
    assert missing.count('class="survey-row"') == 1 and "村112" in missing


def test_the_township_returns_with_a_note_which_the_secretary_then_sees(signed_in, sanhu,
                                                                        submitted):
    town = signed_in("town_T11")
    page = town.get(f"/survey/{submitted}").get_data(as_text=True)
    assert 'id="accept-button"' in page and 'id="return-form"' in page
    assert "王建国" in page and "260.5 平方米" in page
    token = csrf_token(town, f"/survey/{submitted}")
    empty = town.post(f"/survey/{submitted}/events/return",
                      data={"csrf_token": token, "note": " ", "expected_version": "2"})
    assert empty.status_code == 400 and "请写明需要村里修改的内容" in empty.get_data(as_text=True)
    answer = town.post(f"/survey/{submitted}/events/return",
                       data={"csrf_token": token, "note": "集体收入请附账目",
                             "expected_version": "2"})
    assert answer.status_code == 302 and answer.location.endswith(f"/survey/{submitted}")
    assert load(sanhu, submitted).status == "returned"
    sec = signed_in("sec_V111")
    form = sec.get(edit_url(submitted)).get_data(as_text=True)
    assert "乡镇退回意见" in form and "集体收入请附账目" in form
    history = town.get(f"/survey/{submitted}").get_data(as_text=True)
    assert history.count('class="history-event"') == 3 and "退回修改" in history


def test_a_stale_review_is_a_conflict_that_keeps_the_note(signed_in, submitted):
    town = signed_in("town_T11")
    token = csrf_token(town, f"/survey/{submitted}")
    answer = town.post(f"/survey/{submitted}/events/return",
                       data={"csrf_token": token, "note": "请补充", "expected_version": "1"})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 409 and "其他人刚刚修改了这份调查表" in html
    assert ">请补充</textarea>" in html


def test_the_county_archives_ticked_surveys_from_its_list(signed_in, sanhu, world, submitted):
    with sanhu.uow() as uow:
        svc.accept(uow, submitted, world["town_T11"])
    county = signed_in("county_K1")
    html = county.get(f"/survey/years/{YEAR}").get_data(as_text=True)
    assert html.count('class="survey-row"') == 4 and 'id="unit-filter"' in html
    assert f'value="{submitted}" form="archive-form"' in html
    token = csrf_token(county, f"/survey/years/{YEAR}")
    nothing = county.post(f"/survey/years/{YEAR}/archive",
                          data={"csrf_token": token, "back_year": str(YEAR)})
    assert nothing.status_code == 400 and "请先勾选调查表" in nothing.get_data(as_text=True)
    answer = county.post(f"/survey/years/{YEAR}/archive",
                         data={"csrf_token": token, "survey_ids": str(submitted),
                               "back_year": str(YEAR)})
    assert answer.status_code == 302
    assert load(sanhu, submitted).status == "archived"
    one = county.get(f"/survey/years/{YEAR}?unit={world.units['T12'].id}")
    assert one.get_data(as_text=True).count('class="survey-row"') == 2


def test_the_county_archives_one_survey_from_its_page(signed_in, sanhu, world, submitted):
    with sanhu.uow() as uow:
        svc.accept(uow, submitted, world["town_T11"])
    county = signed_in("county_K1")
    page = county.get(f"/survey/{submitted}").get_data(as_text=True)
    assert 'id="archive-button"' in page and 'id="accept-button"' not in page
    answer = county.post(f"/survey/{submitted}/events/archive",
                         data={"csrf_token": csrf_token(county, f"/survey/{submitted}"),
                               "expected_version": "3"})
    assert answer.status_code == 302 and load(sanhu, submitted).status == "archived"


# --- refusals --------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["sec_V112", "town_T12", "county_K2"])
def test_a_survey_outside_the_area_is_not_found(signed_in, draft, who):
    client = signed_in(who)
    assert client.get(f"/survey/{draft}").status_code == 404
    assert client.get(edit_url(draft)).status_code == 404
    token = csrf_token(client, "/inbox/")
    assert client.post(edit_url(draft), data={**FORM, "csrf_token": token, "version": "1",
                                              "action": "save"}).status_code == 404
    assert client.post(f"/survey/{draft}/events/accept",
                       data={"csrf_token": token}).status_code == 404


def test_the_wrong_role_is_refused_with_403(signed_in, sanhu, draft, submitted):
    sec = signed_in("sec_V111")
    token = csrf_token(sec, "/survey/")
    accept = sec.post(f"/survey/{submitted}/events/accept", data={"csrf_token": token})
    assert accept.status_code == 403 and "refusal" in accept.get_data(as_text=True)
    assert sec.get(f"/survey/years/{YEAR}").status_code == 403
    assert sec.get(f"/survey/years/{YEAR}/export.xlsx").status_code == 403
    assert sec.post(f"/survey/{submitted}/events/reopen",
                    data={"csrf_token": token}).status_code == 404
    town = signed_in("town_T11")
    token = csrf_token(town, f"/survey/{submitted}")
    assert town.post("/survey/open", data={"csrf_token": token,
                                           "year": str(YEAR)}).status_code == 403
    assert town.post(f"/survey/{submitted}/events/archive",
                     data={"csrf_token": token}).status_code == 403
    assert town.get(edit_url(submitted)).status_code == 302  # staff only read it
    county = signed_in("county_K1")
    token = csrf_token(county, f"/survey/{submitted}")
    refused = county.post(f"/survey/{submitted}/events/accept", data={"csrf_token": token})
    assert refused.status_code == 403
    assert county.post(f"/survey/years/{YEAR}/archive",
                       data={"csrf_token": token, "survey_ids": str(submitted),
                             "back_year": str(YEAR)}).status_code == 409
    assert load(sanhu, submitted).status == "submitted"


def test_a_secretary_reads_but_does_not_review_their_submitted_survey(signed_in, submitted):
    page = signed_in("sec_V111").get(f"/survey/{submitted}").get_data(as_text=True)
    assert "王建国" in page and 'id="accept-button"' not in page
    assert 'id="return-form"' not in page and 'id="edit-link"' not in page


# --- the export ------------------------------------------------------------------------------


def _rows(response) -> list[list]:
    assert response.status_code == 200 and response.mimetype == XLSX_MIMETYPE
    book = openpyxl.load_workbook(io.BytesIO(response.get_data()))
    try:
        return [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    finally:
        book.close()


def _filename(response) -> str:
    disposition = response.headers["Content-Disposition"]
    return urllib.parse.unquote(re.search(r"filename\*=UTF-8''(\S+)", disposition).group(1))


def test_the_township_and_the_county_download_the_years_surveys(signed_in, world, submitted):
    town = signed_in("town_T11").get(f"/survey/years/{YEAR}/export.xlsx")
    rows = _rows(town)
    assert _filename(town) == f"调查表-{YEAR}-乡11.xlsx"
    assert town.headers["Cache-Control"] == "no-store"
    assert [(r[3], r[6]) for r in rows[1:]] == [("村111", "已报送"), ("村112", "未填报")]
    assert "活动场所面积（平方米）" in rows[0] and len(rows[0]) == 10 + len(FIELDS)
    county = signed_in("county_K1")
    whole = _rows(county.get(f"/survey/years/{YEAR}/export.xlsx"))
    assert len(whole) == 5
    one = county.get(f"/survey/years/{YEAR}/export.xlsx?unit={world.units['T12'].id}")
    assert [r[3] for r in _rows(one)[1:]] == ["村121", "村122"]
    assert _filename(one) == f"调查表-{YEAR}-乡12.xlsx"
    outside = county.get(f"/survey/years/{YEAR}/export.xlsx?unit={world.units['T21'].id}")
    assert outside.status_code == 404
