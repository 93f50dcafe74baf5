"""The import page refuses oversized uploads before reading them and echoes short values."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select
from web_fixtures import csrf_token, sign_in

from ledger.core.models import Unit
from ledger.core.settings import Settings
from web import create_app

UNITS = "T13,新乡,乡镇,K1\n".encode()


def unit_count(sanhu) -> int:
    with sanhu.uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(Unit))


def post_file(client, data: bytes, name: str = "units.csv"):
    return client.post("/admin/import/units", data={
        "csrf_token": csrf_token(client, "/admin/import/units"), "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data")


def test_the_import_limit_is_a_setting_of_its_own():
    assert Settings().import_max_bytes == 2 * 1024 * 1024
    assert Settings().evidence_max_bytes == 20 * 1024 * 1024
    assert Settings.from_env({"SANHU_IMPORT_MAX_BYTES": "1000"}).import_max_bytes == 1000


@pytest.fixture
def small_limit(sanhu, world):
    """An administrator's client on an app whose imports may be at most 4 KiB."""
    sanhu.settings = sanhu.settings.with_(import_max_bytes=4096)
    client = create_app(sanhu=sanhu).test_client()
    assert sign_in(client, "admin").status_code == 302
    return client


def test_an_upload_far_above_the_limit_is_refused_before_it_is_read(sanhu, small_limit):
    before = unit_count(sanhu)
    response = post_file(small_limit, UNITS * 2000)  # 38 KB, declared in Content-Length
    html = response.get_data(as_text=True)
    assert response.status_code == 413 and "4 KiB" in html
    assert 'name="file"' not in html  # answered before the form (and its CSRF check) was read
    assert unit_count(sanhu) == before


def test_a_file_just_above_the_limit_is_refused_beside_the_field(sanhu, small_limit):
    before = unit_count(sanhu)
    response = post_file(small_limit, UNITS * 300)  # 5.7 KB: within the form's overhead
    html = response.get_data(as_text=True)
    assert response.status_code == 413 and "4 KiB" in html and 'name="file"' in html
    assert unit_count(sanhu) == before


def test_the_problem_table_echoes_long_values_shortened(sanhu, signed_in):
    admin = signed_in("admin")
    content = "代码,名称,层级,上级代码\nT13," + "长" * 3000 + ",乡镇,K1\n"
    html = post_file(admin, content.encode()).get_data(as_text=True)
    assert "未导入任何数据" in html
    cell = re.search(r'<td class="mono">([^<]*)</td>', html).group(1)
    assert cell.startswith("长") and len(cell) <= 41 and cell.endswith("…")
