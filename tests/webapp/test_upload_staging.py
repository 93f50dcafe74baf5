"""Uploads reach the evidence store only when the request is accepted (security point 5),
and every file downloads under a name that matches its content (point 6).

Each test counts the real files in the test's evidence folder before and after.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path
from urllib.parse import unquote

import pytest
import time_machine
from samples import make_png
from sqlalchemy import select, update

from ledger.core.evidence import KEPT_MAX_AGE
from ledger.core.models import Evidence
from ledger.items import services as svc
from ledger.items.services import Upload

JPEG_THEN_HTML = (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
                  b"\xff\xd9<html><script>alert(document.cookie)</script></html>")


def docx_with(extra: dict[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships/>')
        archive.writestr("word/document.xml", '<?xml version="1.0"?><w>整改完成</w>')
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def blobs(sanhu) -> list[Path]:
    """The content-addressed blobs (root/ab/cd/<sha256>)."""
    root = Path(sanhu.settings.evidence_dir)
    return sorted(p for p in root.glob("??/??/*") if p.is_file())


def everything(sanhu) -> list[Path]:
    """Every file under the evidence folder: blobs, uploads in progress, kept files."""
    root = Path(sanhu.settings.evidence_dir)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def kept_files(sanhu) -> list[Path]:
    folder = Path(sanhu.settings.evidence_dir) / "kept"
    return sorted(p for p in folder.iterdir() if p.is_file()) if folder.exists() else []


def page_of(client, item_id: int) -> str:
    return client.get(f"/items/{item_id}").get_data(as_text=True)


def post(client, item_id: int, event: str, data: dict, files=(), page: str | None = None,
         version: str | None = None, extra: dict | None = None):
    page = page or page_of(client, item_id)
    token = re.search(r'name="(?:\w+-)?csrf_token"[^>]*value="([^"]+)"', page).group(1)
    seen = re.search(rf'name="{event}-expected_version"[^>]*value="(\d+)"', page)
    form = {f"{event}-csrf_token": token,
            f"{event}-expected_version": version or (seen.group(1) if seen else "")}
    form.update({f"{event}-{k}": v for k, v in data.items()})
    form.update(extra or {})
    if files:
        form[f"{event}-files"] = [(io.BytesIO(content), name) for name, content in files]
    return client.post(f"/items/{item_id}/events/{event}", data=form,
                       content_type="multipart/form-data")


@pytest.fixture
def rectifying(sanhu, world):
    """An item the secretary of V111 has accepted: they may report progress and submit."""
    with sanhu.uow() as uow:
        item = svc.record_finding(uow, world["town_T11"], unit_id=world.units["V111"].id,
                                  description="党员活动室制度未上墙")
    with sanhu.uow() as uow:
        svc.assign(uow, item.id, world["town_T11"], responsible_user_id=world["sec_V111"].id,
                   category="deadline", deadline="10w")
    with sanhu.uow() as uow:
        svc.accept(uow, item.id, world["sec_V111"], measures="制作制度牌")
    return item.id


def photos(n: int) -> list[tuple[str, bytes]]:
    return [(f"照片{i}.png", make_png(red=i)) for i in range(n)]


# --- point 5: nothing stays unless the request is accepted ----------------------------------


def test_an_event_the_user_may_not_fire_stores_none_of_its_uploads(sanhu, world, signed_in,
                                                                   rectifying):
    before = everything(sanhu)
    town = signed_in("town_T11")  # the township may not submit for the village
    response = post(town, rectifying, "submit", {"note": "代为提交"}, files=photos(4),
                    page=town.get("/items/new").get_data(as_text=True))
    assert response.status_code == 403
    assert everything(sanhu) == before


def test_a_form_error_stores_no_blob_and_keeps_the_file_only_under_an_expiring_token(
        sanhu, world, signed_in, rectifying):
    sec = signed_in("sec_V111")
    before = blobs(sanhu)
    response = post(sec, rectifying, "submit", {"note": ""}, files=[("after.png", make_png())])
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "after.png" in html
    assert blobs(sanhu) == before
    assert len(kept_files(sanhu)) == 1
    token = re.search(r'name="kept_file" value="([^"]+)"', html).group(1)
    # after the token's lifetime the file is gone from the form, and the job removes it
    later = dt.datetime.now(dt.UTC) + KEPT_MAX_AGE + dt.timedelta(minutes=5)
    with time_machine.travel(later, tick=False):
        sec = signed_in("sec_V111")  # the first session has expired by then (12 hours)
        retry = post(sec, rectifying, "submit", {"note": "补上说明"}, extra={"kept_file": token})
        assert retry.status_code == 400  # "add at least one file": the token expired
        assert "after.png" not in retry.get_data(as_text=True)
        from schedules import jobs
        assert jobs.evidence_gc(sanhu) == "ok"
    assert kept_files(sanhu) == [] and blobs(sanhu) == before


def test_a_kept_file_is_stored_when_the_retry_is_accepted(sanhu, world, signed_in, rectifying):
    sec = signed_in("sec_V111")
    before = blobs(sanhu)
    html = post(sec, rectifying, "submit", {"note": ""},
                files=[("after.png", make_png())]).get_data(as_text=True)
    token = re.search(r'name="kept_file" value="([^"]+)"', html).group(1)
    retry = post(sec, rectifying, "submit", {"note": "补上说明"}, page=html,
                 extra={"kept_file": token})
    assert retry.status_code == 302
    assert len(blobs(sanhu)) == len(before) + 1 and kept_files(sanhu) == []
    with sanhu.uow() as uow:
        assert uow.session.scalars(select(Evidence.original_name)).all() == ["after.png"]


def test_a_preview_stores_nothing(sanhu, world, signed_in, rectifying):
    before = everything(sanhu)
    sec = signed_in("sec_V111")
    response = post(sec, rectifying, "submit", {"note": "说明"}, files=photos(2),
                    extra={"preview": "1"})
    assert response.status_code == 200
    assert everything(sanhu) == before


def test_a_submit_the_workflow_refuses_stores_nothing(sanhu, world, signed_in, rectifying):
    sec = signed_in("sec_V111")
    page = page_of(sec, rectifying)
    with sanhu.uow() as uow:  # submitted from another tab meanwhile
        svc.submit(uow, rectifying, world["sec_V111"], note="已整改",
                   uploads=[Upload(make_png(red=200), "a.png")])
    before = everything(sanhu)
    response = post(sec, rectifying, "submit", {"note": "再交一次"}, files=photos(2), page=page)
    assert response.status_code == 409
    assert everything(sanhu) == before


def test_a_version_conflict_stores_no_blob_and_the_retry_with_the_kept_file_works(
        sanhu, world, signed_in, rectifying):
    sec = signed_in("sec_V111")
    page = page_of(sec, rectifying)
    with sanhu.uow() as uow:  # a progress note from another tab moves the version on
        svc.report_progress(uow, rectifying, world["sec_V111"], note="进展")
    before = blobs(sanhu)
    response = post(sec, rectifying, "submit", {"note": "整改完毕"},
                    files=[("after.png", make_png())], page=page)
    html = response.get_data(as_text=True)
    assert response.status_code == 409 and "整改完毕" in html
    assert blobs(sanhu) == before
    token = re.search(r'name="kept_file" value="([^"]+)"', html).group(1)
    retry = post(sec, rectifying, "submit", {"note": "整改完毕"}, page=html,
                 extra={"kept_file": token})
    assert retry.status_code == 302
    assert len(blobs(sanhu)) == len(before) + 1 and kept_files(sanhu) == []


def test_an_accepted_submit_stores_its_files_and_nothing_else(sanhu, world, signed_in,
                                                              rectifying):
    before = blobs(sanhu)
    sec = signed_in("sec_V111")
    response = post(sec, rectifying, "submit", {"note": "整改完毕"}, files=photos(2))
    assert response.status_code == 302
    root = Path(sanhu.settings.evidence_dir)
    assert len(blobs(sanhu)) == len(before) + 2
    assert set(everything(sanhu)) == set(blobs(sanhu))  # no leftovers in tmp/ or kept/
    assert root.exists()


# --- point 6: names that match the content ---------------------------------------------------


@pytest.mark.parametrize(("name", "data"), [
    pytest.param("整改报告.hta", JPEG_THEN_HTML, id="jpeg-then-html-as-hta"),
    pytest.param("setup.exe", make_png(), id="png-as-exe"),
    pytest.param("整改报告.docx", docx_with({"word/embeddings/setup.exe": b"MZ\x90" + b"\0" * 60}),
                 id="docx-with-exe"),
    pytest.param("整改报告.docx", docx_with({"word/vbaProject.bin": b"\xd0\xcf\x11\xe0macro"}),
                 id="docx-with-macros"),
])
def test_a_file_whose_name_or_parts_are_dangerous_is_refused_and_nothing_is_stored(
        sanhu, world, signed_in, rectifying, name, data):
    before = everything(sanhu)
    sec = signed_in("sec_V111")
    response = post(sec, rectifying, "submit", {"note": "整改完毕"}, files=[(name, data)])
    assert response.status_code == 303  # the item's page tells why, once
    html = sec.get(response.headers["Location"]).get_data(as_text=True)
    assert name in html and ("扩展名" in html or "宏" in html)
    assert everything(sanhu) == before


def download(client, evidence_id: int, **query):
    """(status, body, mimetype, headers, disposition, served name) of one download."""
    with client.get(f"/items/evidence/{evidence_id}", query_string=query) as response:
        disposition = response.headers["Content-Disposition"]
        match = re.search(r"filename\*=UTF-8''([^;]+)", disposition)
        name = (unquote(match.group(1)) if match
                else re.search(r'filename="?([^";]+)', disposition)[1])
        return (response.status_code, response.data, response.mimetype, response.headers,
                disposition, name)


@pytest.mark.parametrize(("shown", "data", "served", "mime"), [
    pytest.param("整改报告.hta", JPEG_THEN_HTML, "整改报告.jpg", "image/jpeg", id="hta-is-jpeg"),
    pytest.param("setup.exe", make_png(), "setup.png", "image/png", id="exe-is-png"),
    pytest.param("方案", docx_with(), "方案.docx",
                 "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                 id="no-extension-docx"),
])
def test_every_file_downloads_under_a_name_whose_extension_matches_its_content(
        sanhu, world, signed_in, rectifying, shown, data, served, mime):
    with sanhu.uow() as uow:  # stored before the name check existed: the name says .hta
        svc.submit(uow, rectifying, world["sec_V111"], note="已整改", uploads=[Upload(data)])
        uow.session.execute(update(Evidence).values(original_name=shown))
        uow.commit()
        evidence_id = uow.session.scalar(select(Evidence.id))
    sec = signed_in("sec_V111")
    assert shown in page_of(sec, rectifying)  # the uploader's name stays, as metadata
    for query in ({}, {"inline": "1"}):
        status, body, mimetype, headers, disposition, name = download(sec, evidence_id, **query)
        assert status == 200 and body == data
        assert name == served and mimetype == mime
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in headers["Content-Security-Policy"]
        inline_ok = query and mime in ("image/jpeg", "image/png")
        assert disposition.startswith("inline" if inline_ok else "attachment")
