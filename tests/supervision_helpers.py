"""Overdue items for the supervision tests outside ``tests/webapp`` (the API's)."""

from __future__ import annotations

import datetime as dt

from ledger.core.models import Item
from ledger.items import services as svc


def make_overdue(app, world, unit="V111", who="town_T11", days_ago=40) -> int:
    """An item of ``unit`` assigned ``days_ago`` with 10 days to go: overdue now."""
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=days_ago)
    with app.uow(clock=lambda: start) as uow:
        item = svc.record_finding(uow, world[who], unit_id=world.units[unit].id,
                                  description=f"{unit} 制度未上墙")
    with app.uow(clock=lambda: start) as uow:
        svc.assign(uow, item.id, world[who], responsible_user_id=world[f"sec_{unit}"].id,
                   category="deadline", deadline="10d")
    return item.id


def number(app, item_id: int) -> str:
    with app.uow() as uow:
        return uow.session.get(Item, item_id).number
