"""Downloading a cycle's scores and a record's checklist, and the printable record, by role."""

from __future__ import annotations

import io
import re
import urllib.parse

import openpyxl
import pytest
from observation_helpers import observation_of, start_and_fill

from ledger.core.models import Observation
from ledger.items.export import XLSX_MIMETYPE
from ledger.observations import record
from ledger.observations import services as obs_svc


@pytest.fixture
def filled(sanhu, world):
    """V111's 2026Q4 record filled by town_T11 (one 不符合, score 90), not yet submitted."""
    obs_id = observation_of(sanhu, world, "village_quarterly", "2026Q4", "V111")
    start_and_fill(sanhu, obs_id, world["town_T11"], fails={"basic:3": "制度未上墙"}, score=90)
    with sanhu.uow() as uow:
        record.save_section(uow, obs_id, "highlights", world["town_T11"], body="积分制管理")
    with sanhu.uow() as uow:
        cycle_id = uow.session.get(Observation, obs_id).cycle_id
    return obs_id, cycle_id


def confirm(sanhu, world, obs_id):
    for step in (obs_svc.submit, obs_svc.confirm):
        with sanhu.uow() as uow:
            step(uow, obs_id, world["town_T11"])


def filename(response) -> str:
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment; filename=\"")
    return urllib.parse.unquote(re.search(r"filename\*=UTF-8''(\S+)", disposition).group(1))


def rows_of(response) -> list[list]:
    assert response.status_code == 200 and response.mimetype == XLSX_MIMETYPE
    book = openpyxl.load_workbook(io.BytesIO(response.get_data()))
    try:
        return [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    finally:
        book.close()


def test_a_township_downloads_the_cycles_scores_of_its_villages(signed_in, filled):
    _, cycle_id = filled
    response = signed_in("town_T11").get(f"/cycles/{cycle_id}/scores.xlsx")
    rows = rows_of(response)
    assert filename(response) == "观摩得分-2026Q4.xlsx"
    assert response.headers["Cache-Control"] == "no-store"
    assert [(r[1], r[3]) for r in rows[1:]] == [("县1/乡11/村111", "观摩中"),
                                                ("县1/乡11/村112", "计划中")]


def test_a_township_downloads_a_records_checklist(signed_in, filled):
    obs_id, _ = filled
    response = signed_in("town_T11").get(f"/observations/{obs_id}/checklist.xlsx")
    rows = rows_of(response)
    assert filename(response) == "观摩记录-村111-2026Q4.xlsx"
    assert rows[0][0] == "观摩记录表"
    failed = [r[:6] for r in rows if r[3] == "不符合"]
    assert failed == [["基本标准·党的组织设置", 3, failed[0][2], "不符合", 3, "制度未上墙"]]


def test_the_temporary_workbook_is_removed_after_the_download(signed_in, filled, tmp_path,
                                                             monkeypatch):
    obs_id, _ = filled
    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(spool))
    response = signed_in("town_T11").get(f"/observations/{obs_id}/checklist.xlsx")
    assert response.headers["Content-Length"] == str(len(response.get_data()))
    response.close()
    assert list(spool.iterdir()) == []


@pytest.mark.parametrize("path", ["/observations/{obs}/checklist.xlsx",
                                  "/observations/{obs}/print"])
def test_a_township_outside_the_scope_gets_not_found(signed_in, filled, path):
    obs_id, _ = filled
    response = signed_in("town_T12").get(path.format(obs=obs_id))
    assert response.status_code == 404


def test_unknown_cycles_and_observations_are_not_found(signed_in, filled, tmp_path,
                                                       monkeypatch):
    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(spool))
    client = signed_in("county_K1")
    assert client.get("/cycles/99999/scores.xlsx").status_code == 404
    assert client.get("/observations/99999/checklist.xlsx").status_code == 404
    assert client.get("/observations/99999/print").status_code == 404
    assert list(spool.iterdir()) == []  # nothing left behind by a refused export


def test_a_village_secretary_sees_the_record_only_once_it_is_confirmed(sanhu, world, signed_in,
                                                                       filled):
    obs_id, cycle_id = filled
    client = signed_in("sec_V111")
    assert client.get(f"/observations/{obs_id}/checklist.xlsx").status_code == 404
    assert client.get(f"/observations/{obs_id}/print").status_code == 404
    assert rows_of(client.get(f"/cycles/{cycle_id}/scores.xlsx"))[1:] == []
    confirm(sanhu, world, obs_id)
    assert rows_of(client.get(f"/observations/{obs_id}/checklist.xlsx"))[0][0] == "观摩记录表"
    assert client.get(f"/observations/{obs_id}/print").status_code == 200
    scores = rows_of(client.get(f"/cycles/{cycle_id}/scores.xlsx"))[1:]
    assert [(r[1], r[8]) for r in scores] == [("县1/乡11/村111", 94.9)]


def test_the_print_page_shows_the_checklist_the_score_and_the_signature_lines(sanhu, world,
                                                                             signed_in, filled):
    obs_id, _ = filled
    confirm(sanhu, world, obs_id)
    html = signed_in("town_T11").get(f"/observations/{obs_id}/print").get_data(as_text=True)
    assert "<h1 class=\"h4 text-center mb-3\" id=\"record-title\">观摩记录表</h1>" in html
    assert "村111" in html and "2026Q4 村级季度观摩" in html and "已确认" in html
    failed = re.search(r'<tr class="record-line" data-standard="basic:3" data-result="fail">'
                       r'(.*?)</tr>', html, re.S).group(1)
    assert "不符合" in failed and "制度未上墙" in failed and ">3<" in failed
    assert len(re.findall(r'class="record-line"', html)) == 42
    score = re.search(r'id="record-score">(.*?)</table>', html, re.S).group(1)
    assert "97" in score and "90" in score and "94.9" in score
    assert "得分已于确认时冻结" in html
    assert "积分制管理" in html and "经验总结" in html
    for line in ("观摩组成员签字", "被观摩单位负责人签字", "日期"):
        assert line in html
    assert html.count('class="sign-line') == 3
    assert "data-print" in html and "observation-print.css" in html


def test_the_print_page_follows_the_chosen_language(signed_in, filled):
    obs_id, _ = filled
    client = signed_in("town_T11")
    client.set_cookie("sanhu_lang", "en")
    html = client.get(f"/observations/{obs_id}/print").get_data(as_text=True)
    assert "Observation record sheet" in html and "Signature (签字)" in html


def test_the_exports_need_a_signed_in_user(client, filled):
    obs_id, cycle_id = filled
    for path in (f"/cycles/{cycle_id}/scores.xlsx", f"/observations/{obs_id}/checklist.xlsx",
                 f"/observations/{obs_id}/print"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.location
