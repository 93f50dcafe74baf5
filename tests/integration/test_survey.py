"""The village survey (调查表) through its services, on SQLite and PostgreSQL.

draft → submitted → returned → resubmitted → accepted → archived; who may fire
what (the village's secretary fills in, its township reviews, its county
archives), scope (everyone else: not found), per-field validation with nothing
half-saved, one survey per village and year, version checks, the append-only
history that replays to the answers, and the .xlsx export.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import DatabaseError, IntegrityError

from ledger.core.errors import (
    Conflict,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from ledger.survey import queries
from ledger.survey import services as svc
from ledger.survey.export import FIXED_COLUMNS, export_surveys, header
from ledger.survey.fields import BY_KEY, FIELDS, SECTIONS
from ledger.survey.models import Survey, SurveyEvent
from ledger.survey.workflow import allowed_events, survey_mermaid

YEAR = 2026

#: every required answer, as a form would send it (strings)
FULL = {
    "households": "320", "population": "1150", "poor_village": "否", "weak_lax": "否",
    "org_form": "党支部", "members_total": "42", "members_probationary": "2",
    "members_women": "9", "members_under_35": "6", "members_over_60": "15",
    "secretary_name": "王建国", "secretary_sex": "男", "secretary_age": "48",
    "secretary_education": "大专", "secretary_one_shoulder": "是",
    "committee_members": [
        {"name": "王建国", "post": "书记", "sex": "男", "age": "48", "education": "大专",
         "cross_serving": "是"},
        {"name": "李秀英", "post": "组织委员", "sex": "女", "age": "39"},
        {"name": "", "post": "", "sex": "", "age": ""},  # the form's empty row
    ],
    "first_secretary": "是", "first_secretary_name": "赵明", "first_secretary_unit": "县农业农村局",
    "reserve_cadres": "4", "site_area": "260.5", "congresses": "4", "committee_meetings": "12",
    "group_meetings": "14", "party_lectures": "4", "collective_income": "6.8",
    "filled_by": "王建国", "filled_on": "2026-11-30", "secretary_since": "2021-03-15",
}


def do(app, fn, *args, **kw):
    with app.uow() as uow:
        return fn(uow, *args, **kw)


def load(app, survey_id: int) -> Survey:
    with app.uow() as uow:
        survey = uow.session.get(Survey, survey_id)
        uow.session.expunge(survey)
        return survey


def events(app, survey_id: int) -> list[tuple]:
    with app.uow() as uow:
        return [tuple(r) for r in uow.session.execute(
            select(SurveyEvent.seq, SurveyEvent.event, SurveyEvent.from_status,
                   SurveyEvent.to_status, SurveyEvent.note)
            .where(SurveyEvent.survey_id == survey_id).order_by(SurveyEvent.seq))]


@pytest.fixture
def draft(any_sanhu, any_world) -> int:
    """V111's survey of 2026, just opened by its secretary."""
    return do(any_sanhu, svc.open_survey, any_world["sec_V111"], YEAR).id


@pytest.fixture
def submitted(any_sanhu, any_world, draft) -> int:
    do(any_sanhu, svc.submit, draft, any_world["sec_V111"], values=FULL)
    return draft


# --- the fields --------------------------------------------------------------------------


def test_every_field_serves_standards_of_the_catalog_and_is_declared_completely():
    catalog = json.loads((Path(__file__).parents[2] / "ledger" / "catalog" / "data"
                          / "standards.json").read_text(encoding="utf-8"))
    numbers = {(s["set"], s["number"]) for s in catalog}
    sections = {key for key, _ in SECTIONS}
    for field in FIELDS:
        assert {("basic", n) for n in field.basic} <= numbers, field.key
        assert {("demonstration", n) for n in field.demonstration} <= numbers, field.key
        assert field.section in sections and field.label
        assert field.type in ("int", "decimal", "text", "bool", "date", "choice", "people")
        assert (field.type == "choice") == bool(field.choices)
        assert (field.type == "people") == bool(field.columns)
        if field.required_if:
            assert BY_KEY[field.required_if].type == "bool"
        if field.at_most:
            assert field.type == BY_KEY[field.at_most].type == "int"
    assert len({f.label for f in FIELDS}) == len(FIELDS), "labels are the export's headers"
    served = {n for f in FIELDS for n in f.basic}
    # the facts the brief names are all there
    for key in ("members_total", "members_women", "members_under_35", "members_over_60",
                "members_probationary", "committee_members", "secretary_name", "secretary_age",
                "secretary_education", "secretary_one_shoulder", "site_area", "site_facilities",
                "collective_income", "first_secretary", "first_secretary_name",
                "reserve_cadres", "congresses", "committee_meetings", "group_meetings",
                "party_lectures"):
        assert key in BY_KEY
    assert {1, 7, 9, 18, 24, 41} <= served
    assert BY_KEY["site_area"].unit == "平方米" and BY_KEY["collective_income"].unit == "万元"


def test_the_diagram_is_drawn_from_the_rules_and_the_readme_shows_it():
    diagram = survey_mermaid()
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    assert f"```mermaid\n{diagram}\n```" in readme
    assert "submitted --> returned: return (township_staff)" in diagram
    assert "accepted --> archived: archive (county_staff)" in diagram
    assert "draft --> submitted: submit (village_secretary) [answers_complete]" in diagram


# --- the lifecycle ---------------------------------------------------------------------


def test_a_survey_goes_from_draft_to_archive_with_a_return_on_the_way(any_sanhu, any_world,
                                                                     draft):
    sec, town, county = any_world["sec_V111"], any_world["town_T11"], any_world["county_K1"]
    saved = do(any_sanhu, svc.save, draft, sec, FULL, expected_version=1)
    assert (saved.status, saved.version) == ("draft", 2) and "site_area" in saved.changed
    assert do(any_sanhu, svc.submit, draft, sec, expected_version=2).status == "submitted"
    returned = do(any_sanhu, svc.return_survey, draft, town, note="党员人数与花名册不符")
    assert returned.status == "returned"
    do(any_sanhu, svc.save, draft, sec, {"members_total": "43"})
    assert do(any_sanhu, svc.submit, draft, sec).status == "submitted"
    assert do(any_sanhu, svc.accept, draft, town).status == "accepted"
    result = do(any_sanhu, svc.archive, draft, county)
    assert (result.status, result.version) == ("archived", 8)
    assert events(any_sanhu, draft) == [
        (1, "open", None, "draft", None), (2, "save", "draft", "draft", None),
        (3, "submit", "draft", "submitted", None),
        (4, "return", "submitted", "returned", "党员人数与花名册不符"),
        (5, "save", "returned", "returned", None), (6, "resubmit", "returned", "submitted", None),
        (7, "accept", "submitted", "accepted", None), (8, "archive", "accepted", "archived", None),
    ]
    survey = load(any_sanhu, draft)
    assert survey.answers["members_total"] == 43 and survey.answers["site_area"] == 260.5
    assert survey.answers["secretary_one_shoulder"] is True
    assert survey.answers["secretary_since"] == "2021-03-15"
    assert survey.answers["committee_members"][1] == {"name": "李秀英", "post": "组织委员",
                                                      "sex": "女", "age": 39}
    assert len(survey.answers["committee_members"]) == 2, "the empty row is dropped"
    assert survey.schema_version == 1 and survey.year == YEAR
    assert None not in (survey.submitted_at, survey.accepted_at, survey.archived_at)
    with any_sanhu.uow() as uow:
        assert queries.last_return_note(uow.session, survey) == "党员人数与花名册不符"


def test_the_history_replays_to_the_stored_answers_and_status(any_sanhu, any_world, draft):
    sec, town = any_world["sec_V111"], any_world["town_T11"]
    do(any_sanhu, svc.save, draft, sec, {"households": "300", "site_area": "95"})
    do(any_sanhu, svc.save, draft, sec, {"households": "", "population": "990"})
    do(any_sanhu, svc.submit, draft, sec, values=FULL)
    do(any_sanhu, svc.return_survey, draft, town, note="补充")
    do(any_sanhu, svc.save, draft, sec, {"site_facilities": "会议室、党员活动室", "weak_lax": "是",
                                         "rectification_plan": "一村一策"})
    with any_sanhu.uow() as uow:
        survey = uow.session.get(Survey, draft)
        rows = queries.history(uow.session, survey)
        assert queries.replay(rows) == (survey.status, survey.answers)
        assert [r.seq for r in rows] == list(range(1, survey.version + 1))
        assert rows[2].changes == {"households": None, "population": 990}
        assert rows[0].actor_name == "sec_V111"


@pytest.mark.parametrize("statement", ["update", "delete"])
def test_history_rows_cannot_be_changed_or_removed(any_sanhu, draft, statement):
    with any_sanhu.uow() as uow:
        stmt = (update(SurveyEvent).values(note="rewritten") if statement == "update"
                else delete(SurveyEvent)).where(SurveyEvent.survey_id == draft)
        with pytest.raises(DatabaseError, match="append-only"):
            uow.session.execute(stmt)
    assert events(any_sanhu, draft) == [(1, "open", None, "draft", None)]


def test_returning_needs_a_note(any_sanhu, any_world, submitted):
    with pytest.raises(ValidationError) as refused:
        do(any_sanhu, svc.return_survey, submitted, any_world["town_T11"], note="  ")
    assert refused.value.fields == {"note": "required"}
    with pytest.raises(ValidationError) as refused:
        do(any_sanhu, svc.return_survey, submitted, any_world["town_T11"], note="长" * 2001)
    assert refused.value.fields == {"note": "too long"}
    assert load(any_sanhu, submitted).status == "submitted"


# --- who may do what, and scope -----------------------------------------------------------


@pytest.mark.parametrize(("who", "error"), [
    ("town_T11", PermissionDenied), ("county_K1", PermissionDenied), ("city", PermissionDenied),
    ("sup_K1", PermissionDenied), ("admin", PermissionDenied),
    ("sec_V112", NotFound), ("town_T12", NotFound), ("county_K2", NotFound),
])
def test_only_the_villages_secretary_fills_in_its_survey(any_sanhu, any_world, draft, who,
                                                         error):
    with pytest.raises(error):
        do(any_sanhu, svc.save, draft, any_world[who], {"households": "1"})
    with pytest.raises(error):
        do(any_sanhu, svc.submit, draft, any_world[who], values=FULL)
    assert load(any_sanhu, draft).version == 1


@pytest.mark.parametrize(("who", "error"), [
    ("sec_V111", PermissionDenied), ("county_K1", PermissionDenied), ("city", PermissionDenied),
    ("town_T12", NotFound), ("county_K2", NotFound), ("sec_V112", NotFound),
])
def test_only_the_villages_township_returns_or_accepts(any_sanhu, any_world, submitted, who,
                                                       error):
    with pytest.raises(error):
        do(any_sanhu, svc.accept, submitted, any_world[who])
    with pytest.raises(error):
        do(any_sanhu, svc.return_survey, submitted, any_world[who], note="不行")
    assert load(any_sanhu, submitted).status == "submitted"


@pytest.mark.parametrize(("who", "error"), [
    ("town_T11", PermissionDenied), ("sec_V111", PermissionDenied), ("city", PermissionDenied),
    ("county_K2", NotFound),
])
def test_only_the_villages_county_archives(any_sanhu, any_world, submitted, who, error):
    do(any_sanhu, svc.accept, submitted, any_world["town_T11"])
    with pytest.raises(error):
        do(any_sanhu, svc.archive, submitted, any_world[who])
    assert load(any_sanhu, submitted).status == "accepted"


def test_only_draft_and_returned_surveys_can_be_edited(any_sanhu, any_world, submitted):
    sec = any_world["sec_V111"]
    with pytest.raises(InvalidTransition):
        do(any_sanhu, svc.save, submitted, sec, {"households": "1"})
    do(any_sanhu, svc.accept, submitted, any_world["town_T11"])
    with pytest.raises(InvalidTransition):
        do(any_sanhu, svc.submit, submitted, sec, values={"households": "1"})
    with pytest.raises(InvalidTransition):
        do(any_sanhu, svc.accept, submitted, any_world["town_T11"])
    assert load(any_sanhu, submitted).answers["households"] == 320


def test_each_user_is_offered_only_their_next_step(any_sanhu, any_world, submitted):
    with any_sanhu.uow() as uow:
        survey = uow.session.get(Survey, submitted)
        ctx = uow.context()
        offered = {who: allowed_events(survey, any_world[who], ctx)
                   for who in ("sec_V111", "town_T11", "county_K1", "town_T12")}
    assert offered == {"sec_V111": [], "town_T11": ["return", "accept"], "county_K1": [],
                       "town_T12": []}


def test_surveys_outside_the_scope_are_not_found(any_sanhu, any_world, draft):
    for who in ("sec_V112", "town_T12", "county_K2", "sup_K2"):
        with any_sanhu.uow() as uow, pytest.raises(NotFound):
            svc.get_survey(uow, draft, any_world[who])
    for who in ("sec_V111", "town_T11", "county_K1", "city", "sup_K1"):
        with any_sanhu.uow() as uow:
            assert svc.get_survey(uow, draft, any_world[who]).id == draft
    with any_sanhu.uow() as uow, pytest.raises(NotFound):
        svc.get_survey(uow, "abc", any_world["city"])


def test_only_a_village_secretary_opens_a_survey_and_for_a_sensible_year(any_sanhu, any_world):
    for who in ("town_T11", "county_K1", "admin"):
        with pytest.raises(PermissionDenied):
            do(any_sanhu, svc.open_survey, any_world[who], YEAR)
    for year, code in (("1999", "out of range"), (str(YEAR + 2), "out of range"),
                       ("二〇二六x", "not a whole number")):
        with pytest.raises(ValidationError) as refused:
            do(any_sanhu, svc.open_survey, any_world["sec_V111"], year)
        assert refused.value.fields == {"year": code}
    with any_sanhu.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Survey)) == 0


# --- validation --------------------------------------------------------------------------


def test_wrong_answers_are_named_field_by_field_and_nothing_is_saved(any_sanhu, any_world,
                                                                     draft):
    do(any_sanhu, svc.save, draft, any_world["sec_V111"], {"households": "300"})
    bad = {
        "members_total": "-1", "population": "一千", "site_area": "12.345",
        "collective_income": "1e400", "poverty_rate": "120", "secretary_age": "12",
        "org_form": "支部", "secretary_since": "2026-13-01", "first_secretary": "也许",
        "filler_phone": "1" * 33, "no_such_field": "1", "households": "301",
        "reserve_cadres": "2.5", "secretary_training_hours": "NaN",
        "committee_members": [{"name": "王建国", "post": ""},
                              {"name": "李", "post": "委员", "age": "七十", "sex": "未知"}],
        "members_women": "5",
    }
    with pytest.raises(ValidationError) as refused:
        do(any_sanhu, svc.save, draft, any_world["sec_V111"], bad)
    assert refused.value.fields == {
        "members_total": "negative", "population": "not a whole number",
        "site_area": "too many decimals", "collective_income": "out of range",
        "poverty_rate": "out of range", "secretary_age": "out of range",
        "org_form": "invalid choice", "secretary_since": "invalid date",
        "first_secretary": "not yes or no", "filler_phone": "too long",
        "no_such_field": "unknown field", "reserve_cadres": "not a whole number",
        "secretary_training_hours": "not a number",
        "committee_members.0.post": "required", "committee_members.1.age": "not a whole number",
        "committee_members.1.sex": "invalid choice",
    }
    survey = load(any_sanhu, draft)
    assert (survey.version, survey.answers) == (2, {"households": 300})
    assert len(events(any_sanhu, draft)) == 2


def test_a_part_may_not_exceed_its_whole(any_sanhu, any_world, draft):
    sec = any_world["sec_V111"]
    do(any_sanhu, svc.save, draft, sec, {"members_total": "10"})
    with pytest.raises(ValidationError) as refused:
        do(any_sanhu, svc.save, draft, sec, {"members_women": "11", "members_over_60": "10"})
    assert refused.value.fields == {"members_women": "more than the total"}
    with pytest.raises(ValidationError) as refused:
        do(any_sanhu, svc.save, draft, sec, {"members_total": "3", "members_over_60": "4",
                                             "group_leaders": "2", "group_leaders_party": "3"})
    assert refused.value.fields == {"members_over_60": "more than the total",
                                    "group_leaders_party": "more than the total"}


def test_too_many_people_are_refused(any_sanhu, any_world, draft):
    rows = [{"name": f"人{i}", "post": "委员"} for i in range(31)]
    with pytest.raises(ValidationError) as refused:
        do(any_sanhu, svc.save, draft, any_world["sec_V111"], {"committee_members": rows})
    assert refused.value.fields == {"committee_members": "too many rows"}


def test_submitting_needs_every_required_answer(any_sanhu, any_world, draft):
    sec = any_world["sec_V111"]
    with pytest.raises(ValidationError) as refused:
        do(any_sanhu, svc.submit, draft, sec, values={"households": "300"})
    assert set(refused.value.fields) == {f.key for f in FIELDS if f.required} - {"households"}
    assert set(refused.value.fields.values()) == {"required"}
    partial = {**FULL, "first_secretary_name": ""}
    with pytest.raises(ValidationError) as refused:
        do(any_sanhu, svc.submit, draft, sec, values=partial)
    assert refused.value.fields == {"first_secretary_name": "required"}
    survey = load(any_sanhu, draft)
    assert (survey.status, survey.version, survey.answers) == ("draft", 1, {})
    submitted = do(any_sanhu, svc.submit, draft, sec, values={**FULL, "first_secretary": "否",
                                                              "first_secretary_name": ""})
    assert submitted.status == "submitted" and submitted.version == 2
    assert events(any_sanhu, draft)[-1][:2] == (2, "submit")


def test_saving_nothing_new_writes_nothing(any_sanhu, any_world, draft):
    sec = any_world["sec_V111"]
    do(any_sanhu, svc.save, draft, sec, {"households": "300"})
    again = do(any_sanhu, svc.save, draft, sec, {"households": " 300 ", "population": ""})
    assert (again.version, again.changed) == (2, ())
    assert len(events(any_sanhu, draft)) == 2


# --- one per village and year, versions ---------------------------------------------------


def test_one_survey_per_village_and_year(any_sanhu, any_world, draft):
    sec = any_world["sec_V111"]
    again = do(any_sanhu, svc.open_survey, sec, str(YEAR))
    assert (again.id, again.created) == (draft, False)
    other = do(any_sanhu, svc.open_survey, sec, YEAR - 1)
    assert other.id != draft and other.created
    with any_sanhu.uow() as uow:
        twin = Survey(unit_id=any_world.units["V111"].id, year=YEAR, status="draft",
                      schema_version=1, answers={}, created_by_id=sec.id)
        uow.session.add(twin)
        with pytest.raises(IntegrityError):
            uow.session.flush()


def test_opening_next_years_survey_carries_over_all_but_one_years_figures(any_sanhu,
                                                                         any_world):
    sec = any_world["sec_V111"]
    last = do(any_sanhu, svc.open_survey, sec, YEAR - 1).id
    do(any_sanhu, svc.save, last, sec, FULL)
    opened = do(any_sanhu, svc.open_survey, sec, YEAR)
    survey = load(any_sanhu, opened.id)
    assert survey.answers["site_area"] == 260.5 and survey.answers["members_total"] == 42
    for key in ("collective_income", "congresses", "party_lectures", "filled_on"):
        assert key not in survey.answers
    assert events(any_sanhu, opened.id) == [(1, "open", None, "draft",
                                             f"carried over from {YEAR - 1}")]


def test_a_stale_version_is_a_conflict(any_sanhu, any_world, draft):
    sec, town = any_world["sec_V111"], any_world["town_T11"]
    do(any_sanhu, svc.save, draft, sec, FULL, expected_version=1)
    with pytest.raises(Conflict):
        do(any_sanhu, svc.save, draft, sec, {"households": "1"}, expected_version=1)
    with pytest.raises(Conflict):
        do(any_sanhu, svc.submit, draft, sec, expected_version=1)
    do(any_sanhu, svc.submit, draft, sec, expected_version=2)
    with pytest.raises(Conflict):
        do(any_sanhu, svc.accept, draft, town, expected_version=2)
    assert load(any_sanhu, draft).status == "submitted"


def test_two_writers_at_once_one_wins_the_other_gets_a_conflict(any_sanhu, any_world,
                                                                submitted):
    town = any_world["town_T11"]
    with any_sanhu.uow() as first, any_sanhu.uow() as second:
        seen = svc.get_survey(first, submitted, town)  # both read version 2
        assert svc.get_survey(second, submitted, town).version == seen.version == 2
        svc.accept(second, submitted, town)
        with pytest.raises(Conflict):
            svc.return_survey(first, submitted, town, note="晚了一步")
    assert load(any_sanhu, submitted).status == "accepted"
    assert [e[1] for e in events(any_sanhu, submitted)] == ["open", "submit", "accept"]


def test_archiving_many_is_all_or_nothing(any_sanhu, any_world, submitted):
    town, county = any_world["town_T11"], any_world["county_K1"]
    other = do(any_sanhu, svc.open_survey, any_world["sec_V112"], YEAR).id
    do(any_sanhu, svc.accept, submitted, town)
    with pytest.raises(InvalidTransition):
        do(any_sanhu, svc.archive_many, county, [submitted, other])
    assert load(any_sanhu, submitted).status == "accepted"
    with pytest.raises(ValidationError):
        do(any_sanhu, svc.archive_many, county, [])
    assert do(any_sanhu, svc.archive_many, county, [submitted]) == 1
    assert load(any_sanhu, submitted).status == "archived"


# --- lists and export ----------------------------------------------------------------------


def test_the_overview_lists_every_village_in_scope_with_its_survey(any_sanhu, any_world,
                                                                  submitted):
    with any_sanhu.uow() as uow:
        town = queries.overview(uow.session, any_world["town_T11"], YEAR)
        county = queries.overview(uow.session, any_world["county_K1"], YEAR)
        one = queries.overview(uow.session, any_world["county_K1"], YEAR,
                               unit_id=any_world.units["T12"].id)
        missing = queries.overview(uow.session, any_world["county_K1"], YEAR, status="missing")
        with pytest.raises(NotFound):
            queries.overview(uow.session, any_world["county_K2"], YEAR,
                             unit_id=any_world.units["T11"].id)
        with pytest.raises(PermissionDenied):
            queries.overview(uow.session, any_world["sec_V111"], YEAR)
    assert [(r.code, r.status) for r in town.rows] == [("V111", "submitted"),
                                                       ("V112", "missing")]
    assert town.counts == {"submitted": 1, "missing": 1} and town.choices == []
    assert [r.code for r in county.rows] == ["V111", "V112", "V121", "V122"]
    assert [r.township for r in one.rows] == ["乡12", "乡12"]
    assert [r.code for r in missing.rows] == ["V112", "V121", "V122"]
    assert county.choices == [(any_world.units["T11"].id, "乡11"),
                              (any_world.units["T12"].id, "乡12")]


def _sheet(path) -> list[list]:
    book = openpyxl.load_workbook(path)
    try:
        return [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    finally:
        book.close()


def test_the_export_has_one_row_per_village_and_one_column_per_field(any_sanhu, any_world,
                                                                    submitted, tmp_path):
    do(any_sanhu, svc.accept, submitted, any_world["town_T11"])
    path = tmp_path / "t.xlsx"
    with any_sanhu.uow() as uow:
        result = export_surveys(uow.session, any_world["town_T11"], YEAR, path)
    assert (result.rows, result.year, result.unit_name) == (2, YEAR, "乡11")
    rows = _sheet(path)
    head = rows[0]
    assert head[:len(FIXED_COLUMNS)] == list(FIXED_COLUMNS)
    assert head[len(FIXED_COLUMNS):] == [header(f) for f in FIELDS]
    assert "活动场所面积（平方米）" in head and "上年度村集体经济收入（万元）" in head
    v111 = dict(zip(head, rows[1], strict=True))
    assert (v111["村（社区）"], v111["状态"], v111["年度"]) == ("村111", "审核通过", YEAR)
    assert v111["县（市、区）"] == "县1" and v111["乡镇（街道）"] == "乡11"
    assert v111["活动场所面积（平方米）"] == 260.5 and v111["党员总数（名）"] == 42
    assert v111["书记是否“一肩挑”（兼任村委会主任）"] == "是"
    assert v111["党组织类型"] == "党支部"
    assert v111["支部委员会成员"] == ("王建国（书记/男/48岁/大专/两委交叉任职）；"
                                      "李秀英（组织委员/女/39岁）")
    assert v111["书记任现职时间"] == dt.datetime(2021, 3, 15)
    assert isinstance(v111["报送时间"], dt.datetime) and v111["存档时间"] is None
    v112 = dict(zip(head, rows[2], strict=True))
    assert (v112["村（社区）"], v112["状态"], v112["党员总数（名）"]) == ("村112", "未填报", None)


def test_the_county_exports_all_its_villages_or_one_townships(any_sanhu, any_world, submitted,
                                                             tmp_path):
    county = any_world["county_K1"]
    with any_sanhu.uow() as uow:
        whole = export_surveys(uow.session, county, YEAR, tmp_path / "k.xlsx")
        one = export_surveys(uow.session, county, YEAR, tmp_path / "t.xlsx",
                             unit_id=any_world.units["T12"].id)
        with pytest.raises(PermissionDenied):
            export_surveys(uow.session, any_world["sec_V111"], YEAR, tmp_path / "x.xlsx")
        with pytest.raises(NotFound):
            export_surveys(uow.session, any_world["county_K2"], YEAR, tmp_path / "y.xlsx",
                           unit_id=any_world.units["T11"].id)
    assert whole.rows == 4 and one.rows == 2
    assert [r[3] for r in _sheet(tmp_path / "t.xlsx")[1:]] == ["村121", "村122"]
    assert [r[6] for r in _sheet(tmp_path / "k.xlsx")[1:]] == ["已报送", "未填报", "未填报",
                                                               "未填报"]
