"""Recording a problem twice with one form is recording it once, on SQLite and PostgreSQL.

The 登记 form carries a one-time token.  The same token sent again (a double
click, a resend after a timeout) returns the item the first post created,
also when both posts arrive at once.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from ledger.core.errors import ValidationError
from ledger.core.models import Item, ItemEvent
from ledger.items import services as svc

TOKEN = "k3Jx9-form-token-0001"


def record(app, world, who="town_T11", token=TOKEN, description="三会一课记录不全"):
    with app.uow() as uow:
        return svc.record_finding(uow, world[who], unit_id=world.units["V111"].id,
                                  description=description, form_token=token)


def count(app, model) -> int:
    with app.uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(model))


def test_the_same_token_twice_returns_the_first_item(any_sanhu, any_world):
    app, world = any_sanhu, any_world
    first = record(app, world)
    again = record(app, world, description="再点一次")
    assert again.id == first.id and again.number == first.number
    assert again.existing and not first.existing
    assert count(app, Item) == 1 and count(app, ItemEvent) == 1
    # another form, or another person's form with the same token, records anew
    assert record(app, world, token="k3Jx9-form-token-0002").id != first.id
    assert record(app, world, who="county_K1").id != first.id
    assert record(app, world, token=None).id != record(app, world, token=None).id
    assert count(app, Item) == 5


def _post_twice_at_once(app, world, token: str) -> list[object]:
    """Two threads, each with its own unit of work, post the same form at the same moment."""
    barrier = threading.Barrier(2, timeout=30)
    results: list[object] = []

    def post() -> None:
        try:
            barrier.wait()
            results.append(record(app, world, token=token))
        except BaseException as exc:  # every outcome is inspected below
            results.append(exc)

    threads = [threading.Thread(target=post) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads)
    return results


def test_two_posts_of_one_form_at_once_make_one_item(any_sanhu, any_world):
    app, world = any_sanhu, any_world
    for round_ in range(5):
        results = _post_twice_at_once(app, world, f"{TOKEN}-{round_}")
        assert all(isinstance(r, svc.ItemResult) for r in results), results
        assert results[0].id == results[1].id
        assert sorted(r.existing for r in results) == [False, True]
    assert count(app, Item) == 5 and count(app, ItemEvent) == 5
    with app.uow() as uow:
        numbers = list(uow.session.scalars(select(Item.number).order_by(Item.number)))
        year = uow.today().year
    # the loser's number was taken back with its transaction: no gaps
    assert numbers == [f"{year}-V111-{n:03d}" for n in range(1, 6)]


def test_a_malformed_token_is_refused(any_sanhu, any_world):
    with pytest.raises(ValidationError):
        record(any_sanhu, any_world, token="x" * 200)
    assert count(any_sanhu, Item) == 0
