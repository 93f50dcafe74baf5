"""The ledger import pages: upload, preview, refusals, confirm, scope and CSRF.

The pages answer in Chinese, the default language.
"""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select
from web_fixtures import csrf_token

from ledger.core.models import Item
from ledger.items.ledger_columns import HEADERS

CSV_HEAD = ",".join(HEADERS)


def csv_file(*lines: str, encoding: str = "utf-8-sig") -> bytes:
    return "\n".join([CSV_HEAD, *lines]).encode(encoding)


GOOD = csv_file(
    "1,OLD-1,观摩,,县1/乡11/村111,基本标准 3,公开栏破损,更换,限期整改,sec_V111,2026/12/31,"
    "整改中,,,,",
    "2,OLD-2,,,V112,,活动室漏雨,,,王五,2026年11月30日,已整改,,,,",
)


def upload(client, data: bytes, name: str = "old.csv"):
    return client.post("/items/import", data={
        "csrf_token": csrf_token(client, "/items/import"),
        "file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def items(app) -> int:
    with app.extensions["sanhu"].uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(Item))


def test_county_staff_see_a_preview_then_import_and_see_what_was_created(app, signed_in):
    client = signed_in("county_K1")
    response = upload(client, GOOD)
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    assert 'id="import-preview"' in html and "县1/乡11/村111" in html and "OLD-1" in html
    assert items(app) == 0  # a preview writes nothing
    token = re.search(r'name="token"[^>]*value="([0-9a-f]{64})"', html).group(1)
    done = client.post("/items/import/confirm", data={
        "csrf_token": csrf_token(client, "/items/import"), "token": token,
        "filename": "old.csv"})
    assert done.status_code == 303  # to the import's own page: refreshing sends nothing again
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert 'id="import-created"' in page and "OLD-2" in page and "已导入 2 条问题" in page
    assert items(app) == 2
    with app.extensions["sanhu"].uow() as uow:
        item_id = uow.session.scalar(select(Item.id).where(Item.number == "OLD-1"))
    item_page = client.get(f"/items/{item_id}").get_data(as_text=True)
    assert 'id="item-imported"' in item_page and "old.csv" in item_page


@pytest.mark.parametrize(("line", "reason"), [
    ("3,X,,,不存在的村,,d,,,,,整改中,,,,", "找不到该单位"),
    ("3,X,,,V211,,d,,,,,整改中,,,,", "不在您的管辖范围内"),
    ("3,X,,,V111,,d,,,,明年,整改中,,,,", "日期无法识别"),
    ("3,X,,,V111,,d,,,,,已销号,,,,", "须填写销号时间"),
    ("3,OLD-1,,,V111,,d,,,,,整改中,,,,", "前面的行已有相同编号"),
    ("3,X,,,V111,,d,,,,,差不多,,,,", "整改状态无法识别"),
])
def test_every_refusal_is_listed_with_its_line_and_nothing_is_written(app, signed_in, line,
                                                                      reason):
    client = signed_in("county_K1")
    response = upload(client, GOOD + ("\n" + line).encode())
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="import-problems"' in html and "<td>4</td>" in html and reason in html
    assert 'id="import-confirm"' not in html
    assert items(app) == 0


def test_a_file_without_a_required_column_is_refused_at_once(app, signed_in):
    data = "问题编号,问题描述\nA,d\n".encode()
    html = upload(signed_in("county_K1"), data).get_data(as_text=True)
    assert "import-problems" in html and "整改状态" in html and "文件缺少此列" in html


def test_a_gb18030_csv_with_an_extra_column_is_read_and_the_column_reported(app, signed_in):
    data = (CSV_HEAD + ",颜色\n" + "1,G-1,,,V111,,乱码测试,,,,,已发现,,,,,红\n").encode("gb18030")
    html = upload(signed_in("county_K1"), data).get_data(as_text=True)
    assert 'id="extra-columns"' in html and "颜色" in html and "G-1" in html


def test_other_roles_may_not_open_the_import_nor_see_its_link(app, signed_in):
    for who in ("town_T11", "sec_V111", "city"):
        client = signed_in(who)
        assert client.get("/items/import").status_code == 403
        assert 'id="import-ledger"' not in client.get("/ledger/").get_data(as_text=True)
    assert 'id="import-ledger"' in signed_in("county_K1").get("/ledger/").get_data(as_text=True)


def test_a_county_cannot_import_into_another_county(app, signed_in):
    response = upload(signed_in("county_K2"), GOOD)
    assert response.status_code == 400
    assert "不在您的管辖范围内" in response.get_data(as_text=True)
    assert items(app) == 0


def test_a_confirmation_needs_the_uploaders_own_staged_file_and_csrf(app, signed_in):
    county1 = signed_in("county_K1")
    html = upload(county1, GOOD).get_data(as_text=True)
    token = re.search(r'name="token"[^>]*value="([0-9a-f]{64})"', html).group(1)
    admin = signed_in("admin")
    taken = admin.post("/items/import/confirm", data={
        "csrf_token": csrf_token(admin, "/items/import"), "token": token, "filename": "x.csv"})
    assert taken.status_code == 409 and items(app) == 0  # another user's file is not theirs
    no_csrf = county1.post("/items/import/confirm", data={"token": token, "filename": "x.csv"})
    assert no_csrf.status_code == 400 and items(app) == 0


def confirmed(client, data: bytes):
    html = upload(client, data).get_data(as_text=True)
    token = re.search(r'name="token"[^>]*value="([0-9a-f]{64})"', html).group(1)
    return client.post("/items/import/confirm", data={
        "csrf_token": csrf_token(client, "/items/import"), "token": token,
        "filename": "big.csv"})


def test_a_large_import_shows_its_progress_until_it_is_done(app, signed_in, monkeypatch):
    import threading

    import ledger.items.ledger_import as ledger_import
    from web.items import ledger_import as pages

    lines = [f"{n},P-{n},,,V111,,问题{n},,,,2026/12/31,整改中,,,," for n in range(1, 8)]
    gate, entered = threading.Event(), threading.Event()
    real = ledger_import.import_ledger

    def held(uow, *args, progress, **kwargs):
        def slow(uow, done, total):  # the test looks at the page between two batches
            progress(uow, done, total)
            if done == 3:
                uow.commit()
                entered.set()
                assert gate.wait(30)
        return real(uow, *args, progress=slow, **kwargs)

    monkeypatch.setattr(ledger_import, "BATCH", 3)
    monkeypatch.setattr(ledger_import, "import_ledger", held)
    monkeypatch.setattr(pages, "WAIT_SECONDS", 0.0)
    client = signed_in("county_K1")
    done = confirmed(client, csv_file(*lines))
    assert done.status_code == 303
    assert entered.wait(30)
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert 'id="import-progress"' in page and 'http-equiv="refresh"' in page
    assert "已写入 3 / 7 行" in page and items(app) == 3
    other = signed_in("county_K2")
    assert other.get(done.headers["Location"]).status_code == 404  # not theirs
    gate.set()
    for _ in range(200):
        page = client.get(done.headers["Location"]).get_data(as_text=True)
        if 'id="import-created"' in page:
            break
        threading.Event().wait(0.05)
    assert 'id="import-created"' in page and "P-7" in page and 'http-equiv' not in page
    assert items(app) == 7


def test_an_import_whose_process_went_away_says_so_and_how_to_finish(app, signed_in, world):
    import datetime as dt

    from sqlalchemy import update

    from ledger.core.models import LedgerImport
    from ledger.items.ledger_import import start_job

    client = signed_in("county_K1")
    with app.extensions["sanhu"].uow() as uow:
        job_id = start_job(uow, world["county_K1"], "old.xlsx", "0" * 64)
        uow.session.execute(update(LedgerImport).values(
            state="importing", done=4000, total=9000,
            updated_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=11)))
        uow.commit()
    page = client.get(f"/items/import/{job_id}").get_data(as_text=True)
    assert 'id="import-stopped"' in page and "4000" in page and "http-equiv" not in page


def test_the_confirmation_checks_the_previewed_rows_again_without_reading_the_file(
        app, signed_in, monkeypatch):
    import ledger.items.ledger_import as ledger_import

    client = signed_in("county_K1")
    html = upload(client, GOOD).get_data(as_text=True)
    token = re.search(r'name="token"[^>]*value="([0-9a-f]{64})"', html).group(1)
    staged = list((app.extensions["sanhu"].settings.evidence_dir / "ledger-imports").glob(
        f"*-{token}*"))
    assert len(staged) == 2  # the file, and its rows as read

    def unread(*args):
        raise AssertionError("the file was read again")

    monkeypatch.setattr(ledger_import, "read_sheet", unread)
    done = client.post("/items/import/confirm", data={
        "csrf_token": csrf_token(client, "/items/import"), "token": token,
        "filename": "old.csv"})
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert 'id="import-created"' in page and items(app) == 2
    assert not any(p.exists() for p in staged)  # both gone once imported


def test_without_the_rows_as_read_the_confirmation_reads_the_file(app, signed_in):
    client = signed_in("county_K1")
    html = upload(client, GOOD).get_data(as_text=True)
    token = re.search(r'name="token"[^>]*value="([0-9a-f]{64})"', html).group(1)
    folder = app.extensions["sanhu"].settings.evidence_dir / "ledger-imports"
    for rows in folder.glob(f"*-{token}.rows"):  # e.g. staged by an older version
        rows.unlink()
    done = client.post("/items/import/confirm", data={
        "csrf_token": csrf_token(client, "/items/import"), "token": token,
        "filename": "old.csv"})
    assert 'id="import-created"' in client.get(done.headers["Location"]).get_data(as_text=True)
    assert items(app) == 2


def test_an_import_refused_by_its_second_check_lists_the_problems(app, signed_in, world):
    from sqlalchemy import update

    from ledger.core.models import LedgerImport
    from ledger.items.ledger_import import start_job

    client = signed_in("county_K1")
    with app.extensions["sanhu"].uow() as uow:
        job_id = start_job(uow, world["county_K1"], "old.xlsx", "0" * 64)
        uow.session.execute(update(LedgerImport).values(state="refused", outcome={
            "count": 3, "problems": [[2, "unit", "unknown unit", "X"]]}))
        uow.commit()
    page = client.get(f"/items/import/{job_id}").get_data(as_text=True)
    assert 'id="import-problems"' in page and "找不到该单位" in page
    assert "另有 2 个问题未列出" in page  # three problems, one kept
