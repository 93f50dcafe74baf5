"""Free-text search through the search index, on SQLite (FTS5) and PostgreSQL (GIN)."""

from __future__ import annotations

import pytest
from conftest import build_world
from sqlalchemy import select, text

from ledger.core.models import Item, ItemEvent
from ledger.items import services as svc
from ledger.items.queries import ItemFilter, _text_clause, list_items, scoped_items
from ledger.items.search import Query, query, terms, tokens


def test_tokens_are_chinese_pieces_of_two_to_four_characters_and_ascii_words():
    assert tokens("2026Q4-V111-003 三会一课") == [
        "2026q4", "v111", "003", "三会", "会一", "一课", "三会一", "会一课", "三会一课"]
    assert tokens("墙") == ["墙"]
    assert terms("漏雨", None, "张三") == "漏雨 张三"


def test_short_needles_are_one_token_and_others_are_confirmed_by_like():
    assert query("墙") is None and query("——") is None  # LIKE only
    assert query("三会一课") == Query(("三会一课",))
    assert query("V111") == Query(("v111",))
    assert query("制度未上墙") == Query(("制度未上", "度未上墙"), confirm=True)
    assert query("2026q4-13") == Query(("2026q4", "13"), confirm=True)
    assert query("三会一课2次") == Query(("三会一课", "2"), confirm=True)


@pytest.fixture
def ledger_world(any_sanhu):
    world = build_world(any_sanhu)
    found = {}

    def record(key, village, description):
        with any_sanhu.uow() as uow:
            found[key] = svc.record_finding(uow, world["town_T11"], unit_id=world.units[village].id,
                                            description=description)

    record("roof", "V111", "村部会议室屋顶漏雨，墙体开裂")
    record("meetings", "V111", "党员活动室“三会一课”制度未上墙")
    record("fees", "V112", "党费收缴台账不全")
    with any_sanhu.uow() as uow:
        svc.assign(uow, found["fees"].id, world["town_T11"],
                   responsible_user_id=world["sec_V112"].id, category="deadline", deadline="10w")
    with any_sanhu.uow() as uow:
        svc.accept(uow, found["fees"].id, world["sec_V112"], measures="补齐党费收缴凭证")
    return any_sanhu, world, found


def search(app, actor, needle):
    with app.uow() as uow:
        page = list_items(uow.session, actor, ItemFilter(text=needle), today=uow.today())
    return {row["number"] for row in page.rows}


def test_words_phrases_numbers_measures_and_people_are_found(ledger_world):
    app, world, n = ledger_world
    city = world["city"]
    assert search(app, city, "漏雨") == {n["roof"].number}
    assert search(app, city, "三会一课") == {n["meetings"].number}
    assert search(app, city, "会一课三") == set()  # every piece occurs, the phrase does not
    assert search(app, city, "会议室屋顶漏雨") == {n["roof"].number}  # a long phrase
    assert search(app, city, "室屋顶漏雨墙") == set()
    assert search(app, city, "漏雨，墙体") == {n["roof"].number}  # confirmed by LIKE
    assert search(app, city, "收缴凭证") == {n["fees"].number}  # from the measures
    assert search(app, city, "sec_V112") == {n["fees"].number}  # the responsible person
    assert search(app, city, n["roof"].number) == {n["roof"].number}
    assert search(app, city, n["roof"].number[:9]) == {n["roof"].number, n["meetings"].number}
    assert search(app, city, "V11") == set()  # codes are whole words
    assert search(app, city, "党") == {n["meetings"].number, n["fees"].number}  # LIKE


def test_search_stays_inside_the_scope(ledger_world):
    app, world, n = ledger_world
    assert search(app, world["sec_V111"], "党费") == set()
    assert search(app, world["sec_V112"], "党费") == {n["fees"].number}


def test_the_search_terms_never_enter_the_history(ledger_world):
    app, _, _ = ledger_world
    with app.uow() as uow:
        changes = uow.session.scalars(select(ItemEvent.changes)).all()
    assert all("search_terms" not in (c or {}) for c in changes)


def test_the_search_uses_the_index(ledger_world):
    app, world, _ = ledger_world
    with app.uow() as uow:
        q = scoped_items(uow.session, world["city"], ItemFilter(text="三会一课"), uow.today())
        if uow.session.get_bind().dialect.name == "postgresql":
            # three rows: the planner rightly prefers the scope index; ask about the text alone
            q = select(Item.id).where(_text_clause(uow.session, "三会一课"))

        compiled = q.compile(uow.session.get_bind(), compile_kwargs={"literal_binds": True})
        conn = uow.session.connection()
        if conn.dialect.name == "sqlite":
            plan = " ".join(str(r) for r in conn.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))
            assert "items_fts" in plan and "VIRTUAL TABLE" in plan
        else:
            conn.execute(text("SET LOCAL enable_seqscan = off"))
            plan = " ".join(r[0] for r in conn.execute(text(f"EXPLAIN {compiled}")))
            assert "ix_items_search" in plan
