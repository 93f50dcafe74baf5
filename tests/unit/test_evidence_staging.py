"""The evidence store's staging (points 5 and 6 of the security hardening) on real files:
stage / commit / discard / keep, names that contradict the content, a close look
inside Office packages, and download names that always match the detected type."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from test_evidence import make_jpeg, make_ole2, make_ooxml, make_pdf, make_png

from ledger.core.errors import EvidenceRejected, NotFound
from ledger.core.evidence import EvidenceStore, declared_extension, download_name
from ledger.core.ooxml import MAX_UNCOMPRESSED

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def blobs(root: Path) -> list[Path]:
    return sorted(p for p in root.glob("??/??/*") if p.is_file())


@pytest.fixture
def store(tmp_path: Path) -> EvidenceStore:
    return EvidenceStore(tmp_path / "evidence")


def docx_with(extra: dict[str, bytes | str], *, compress=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO(make_ooxml("word", "document.xml"))
    with zipfile.ZipFile(buffer, "a", compress) as archive:
        for name, data in extra.items():
            archive.writestr(name, data)
    return buffer.getvalue()


# --- staging -------------------------------------------------------------------------------


def test_a_staged_file_is_not_in_the_store_until_committed(store: EvidenceStore) -> None:
    staged = store.stage(make_png(), "after.png")
    assert blobs(store.root) == [] and staged.path.parent == store.tmp_dir
    assert staged.name == "after.png" and staged.blob.mime == "image/png"
    blob = store.commit(staged)
    assert store.path_for(blob.sha256).read_bytes() == make_png()
    assert files(store.root) == blobs(store.root)


def test_a_discarded_staged_file_leaves_nothing(store: EvidenceStore) -> None:
    store.discard(store.stage(make_png(), "after.png"))
    assert files(store.root) == []


def test_a_kept_file_waits_in_kept_and_is_committed_from_there(store: EvidenceStore) -> None:
    kept = store.keep(store.stage(make_png(), "after.png"))
    assert kept.path.parent == store.kept_dir and len(kept.kept_id) == 32
    assert blobs(store.root) == []
    again = store.kept(kept.kept_id, kept.blob, kept.name)
    assert again == kept
    store.commit(again)
    assert len(blobs(store.root)) == 1 and files(store.kept_dir) == []
    with pytest.raises(NotFound):  # used twice: gone
        store.commit(again)
    assert store.kept(kept.kept_id, kept.blob, kept.name) is None


@pytest.mark.parametrize("bad", ["../../etc/passwd", "A" * 32, "", "0" * 31])
def test_a_kept_id_that_is_not_ours_finds_nothing(store: EvidenceStore, bad: str) -> None:
    kept = store.keep(store.stage(make_png(), "after.png"))
    assert store.kept(bad, kept.blob, "x") is None


def test_committing_content_that_exists_keeps_one_blob(store: EvidenceStore) -> None:
    store.store(make_png(), "a.png")
    store.commit(store.stage(make_png(), "b.png"))
    assert len(blobs(store.root)) == 1 and files(store.tmp_dir) == []


# --- point 6: names that contradict the content ----------------------------------------------

JPEG_THEN_HTML = make_jpeg() + b"<html><script>alert(1)</script></html>"


@pytest.mark.parametrize(("name", "data"), [
    pytest.param("整改报告.hta", JPEG_THEN_HTML, id="jpeg-then-html-as-hta"),
    pytest.param("setup.exe", make_png(), id="png-as-exe"),
    pytest.param("photo.pdf", make_png(), id="png-as-pdf"),
    pytest.param("报告.docx", make_pdf(), id="pdf-as-docx"),
    pytest.param("报告.xlsx", make_ooxml("word", "document.xml"), id="docx-as-xlsx"),
    pytest.param("页面.html", make_png(), id="png-as-html"),
])
def test_a_name_whose_extension_contradicts_the_content_is_refused_and_nothing_stays(
        store: EvidenceStore, name: str, data: bytes) -> None:
    with pytest.raises(EvidenceRejected) as refused:
        store.stage(data, name)
    assert refused.value.code == "evidence_name_mismatch"
    assert refused.value.details["extension"] == name.rsplit(".", 1)[1]
    assert files(store.root) == []


@pytest.mark.parametrize(("name", "data"), [
    pytest.param("IMG_0001.JPG", make_jpeg(), id="upper-case"),
    pytest.param("photo.jpg", make_png(), id="png-saved-as-jpg"),
    pytest.param("扫描件", make_pdf(), id="no-extension"),
    pytest.param("会议记录12.01", make_png(), id="digits-are-no-extension"),
    pytest.param("报告.doc", make_ooxml("word", "document.xml"), id="docx-saved-as-doc"),
    pytest.param("报告.wps", make_ole2("WordDocument"), id="wps-office"),
])
def test_a_name_that_agrees_with_the_content_is_accepted(store: EvidenceStore, name: str,
                                                         data: bytes) -> None:
    assert store.stage(data, name).name == name


@pytest.mark.parametrize(("name", "declared"), [
    ("整改报告.hta", "hta"), ("a.tar.gz", "gz"), ("IMG_0001", None), ("v1.2", None),
    ("x.JPEG", "jpeg"), ("报告.final_", None),
])
def test_the_declared_extension_is_the_last_short_suffix_with_a_letter(name, declared) -> None:
    assert declared_extension(name) == declared


@pytest.mark.parametrize(("name", "mime", "served"), [
    ("整改报告.hta", "image/jpeg", "整改报告.jpg"),
    ("setup.exe", "image/png", "setup.png"),
    ("IMG_0001.JPEG", "image/jpeg", "IMG_0001.JPEG"),
    ("方案", DOCX, "方案.docx"),
    ("报告.doc", DOCX, "报告.docx"),
    ("会议记录12.01", "application/pdf", "会议记录12.01.pdf"),
    (".hta", "image/png", "file.png"),
    ("a/../../evil.exe", "application/pdf", "evil.pdf"),
])
def test_the_download_name_always_ends_in_an_extension_of_the_detected_type(
        name: str, mime: str, served: str) -> None:
    assert download_name(name, mime) == served


# --- point 6: a close look inside Office packages -------------------------------------------


@pytest.mark.parametrize("extra", [
    pytest.param({"word/vbaProject.bin": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"}, id="vba-project"),
    pytest.param({"word/activeX/activeX1.xml": "<ax/>"}, id="activex"),
    pytest.param({"word/embeddings/setup.exe": b"MZ\x90\x00" + b"\0" * 60}, id="exe-by-name"),
    pytest.param({"word/media/image1.png": b"MZ\x90\x00" + b"\0" * 60}, id="exe-by-content"),
    pytest.param({"word/embeddings/x.zip": make_ooxml("xl", "workbook.xml")}, id="nested-zip"),
    pytest.param({"word/embeddings/oleObject1.bin": make_ole2("\x01Ole10Native")},
                 id="embedded-ole-object"),
    pytest.param({"word/run.js": "WScript.Shell"}, id="script"),
    pytest.param({"payload/readme.txt": "hello"}, id="unexpected-part"),
    pytest.param({"xl/workbook.xml": "<w/>"}, id="two-applications"),
    pytest.param({"[Content_Types].xml": '<Types><Override ContentType="application/'
                  'vnd.ms-word.document.macroEnabled.main+xml"/></Types>'},
                 id="macro-enabled-content-type"),
])
def test_an_office_package_with_something_dangerous_inside_is_refused(
        store: EvidenceStore, extra: dict) -> None:
    if "[Content_Types].xml" in extra:  # replace, not add: build the package afresh
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("[Content_Types].xml", extra["[Content_Types].xml"])
            archive.writestr("word/document.xml", "<w/>")
        data = buffer.getvalue()
    else:
        data = docx_with(extra)
    with pytest.raises(EvidenceRejected) as refused:
        store.stage(data, "整改报告.docx")
    assert refused.value.code == "evidence_office_unsafe"
    assert files(store.root) == []


def test_a_zip_bomb_is_refused_without_being_unpacked(store: EvidenceStore) -> None:
    buffer = io.BytesIO(make_ooxml("word", "document.xml"))
    with zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED) as archive, \
            archive.open("word/media/big.xml", "w", force_zip64=True) as part:
        chunk = b"\0" * (1024 * 1024)
        for _ in range(MAX_UNCOMPRESSED // len(chunk) + 1):
            part.write(chunk)
    data = buffer.getvalue()
    assert len(data) < 2 * 1024 * 1024  # small on disk, over the bound unpacked
    with pytest.raises(EvidenceRejected) as refused:
        store.stage(data, "报告.docx")
    assert refused.value.code == "evidence_office_unsafe"
    assert files(store.root) == []


def test_a_real_looking_document_with_pictures_and_properties_is_accepted(
        store: EvidenceStore) -> None:
    data = docx_with({"word/media/image1.png": make_png(), "docProps/core.xml": "<p/>",
                      "customXml/item1.xml": "<c/>", "word/_rels/document.xml.rels": "<r/>",
                      "word/printerSettings/printerSettings1.bin": b"HP Laser"})
    assert store.stage(data, "方案.docx").blob.mime == DOCX


def test_a_legacy_office_file_with_a_macro_project_is_refused(store: EvidenceStore) -> None:
    data = bytearray(make_ole2("WordDocument", "Macros"))
    sector = 512
    data[2 * sector + 2 * 128 + 66] = 1  # the second child becomes a storage
    with pytest.raises(EvidenceRejected) as refused:
        store.stage(bytes(data), "报告.doc")
    assert refused.value.code == "evidence_office_unsafe"
    assert files(store.root) == []
