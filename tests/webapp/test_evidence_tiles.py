"""The evidence tiles of the item page: a file that is not a photo shows an icon and a
short type name (Word, Excel, PDF), never its MIME type, and its size in KB or MB."""

from __future__ import annotations

import re

import pytest
from samples import make_office, make_pdf, make_png

from ledger.items import services as svc
from ledger.items.services import Upload

LONG_NAME = "关于党员活动室制度上墙整改情况的说明及相关照片和会议记录汇总" * 2 + ".docx"


@pytest.fixture
def item_with_files(sanhu, world):
    """An item submitted with a 1.5 MB PDF, a Word and an Excel file and a photo."""
    with sanhu.uow() as uow:
        found = svc.record_finding(uow, world["town_T11"], unit_id=world.units["V111"].id,
                                   description="党员活动室制度未上墙")
    with sanhu.uow() as uow:
        svc.assign(uow, found.id, world["town_T11"], responsible_user_id=world["sec_V111"].id,
                   category="deadline", deadline="10w")
    with sanhu.uow() as uow:
        svc.accept(uow, found.id, world["sec_V111"], measures="制作制度牌")
    with sanhu.uow() as uow:
        svc.submit(uow, found.id, world["sec_V111"], note="已上墙", uploads=[
            Upload(make_pdf(3 * 512 * 1024), "整改报告.pdf"),
            Upload(make_office("word", 20_000), LONG_NAME),
            Upload(make_office("xl", 3_000), "台账.xlsx"),
            Upload(make_png(), "after.png")])
    return found.id


def tiles(html: str) -> dict[str, tuple[str, str]]:
    """File name → (what the tile shows, the size in its caption)."""
    section = html.split('id="evidence"', 1)[1].split("</section>", 1)[0]
    found = {}
    for figure in re.findall(r"<figure>(.*?)</figure>", section, re.S):
        name = re.search(r'class="file-name">([^<]*)<', figure).group(1)
        size = re.search(r'class="file-size">([^<]*)<', figure).group(1)
        shown = re.search(r'class="file-type">([^<]*)<', figure)
        found[name] = (shown.group(1) if shown else "photo", size)
    return found


@pytest.mark.parametrize("language", ["zh", "en"])
def test_office_and_pdf_files_show_their_type_name_and_size_never_the_mime_type(
        signed_in, item_with_files, language):
    client = signed_in("sec_V111")
    if language == "en":
        client.set_cookie("sanhu_lang", "en")
    html = client.get(f"/items/{item_with_files}").get_data(as_text=True)
    shown = tiles(html)
    assert shown["整改报告.pdf"] == ("PDF", "1.5 MB")
    assert shown[LONG_NAME][0] == "Word"
    assert shown["台账.xlsx"][0] == "Excel"
    assert shown["after.png"][0] == "photo"  # a photo shows itself
    assert re.fullmatch(r"\d+(\.\d)? KB", shown[LONG_NAME][1]), shown[LONG_NAME]
    assert re.fullmatch(r"\d+(\.\d)? KB", shown["台账.xlsx"][1]), shown["台账.xlsx"]
    assert re.fullmatch(r"\d+ B", shown["after.png"][1]), shown["after.png"]
    section = html.split('id="evidence"', 1)[1].split("</section>", 1)[0]
    assert "application/" not in section and "VND." not in section.upper()
    assert "<svg" in section  # the icon is drawn by the page itself, nothing is fetched


def test_a_long_file_name_wraps_inside_its_tile(app):
    with app.test_client().get("/static/css/sanhu.css") as response:
        css = response.get_data(as_text=True)
    caption_rule = re.search(r"\.thumbs figcaption \{([^}]*)\}", css).group(1)
    assert "overflow-wrap: anywhere" in caption_rule


@pytest.mark.parametrize(("size", "text"), [
    (0, "0 B"), (1023, "1,023 B"), (1024, "1 KB"), (1536, "1.5 KB"), (102_400, "100 KB"),
    (1024 * 1024 - 1, "1,024 KB"), (1024 * 1024, "1 MB"), (int(1.25 * 1024 * 1024), "1.2 MB"),
    (150 * 1024 * 1024, "150 MB")])
def test_sizes_read_in_kb_and_mb(app, size, text):
    from web.core.file_labels import file_size

    with app.test_request_context():
        assert file_size(size) == text
