"""The database itself refuses to edit or delete history, on SQLite and PostgreSQL."""

import pytest
from sqlalchemy import delete, update
from sqlalchemy.exc import DatabaseError

from ledger.core.models import ItemEvent
from ledger.items import services as svc


@pytest.mark.parametrize("statement", ["update", "delete"])
def test_history_rows_cannot_be_changed_or_removed(any_sanhu, any_world, statement):
    with any_sanhu.uow() as uow:
        item = svc.record_finding(uow, any_world["town_T11"],
                                  unit_id=any_world.units["V111"].id, description="问题")
    with any_sanhu.uow() as uow:
        stmt = (update(ItemEvent).values(note="rewritten") if statement == "update"
                else delete(ItemEvent)).where(ItemEvent.item_id == item.id)
        with pytest.raises(DatabaseError, match="append-only"):
            uow.session.execute(stmt)
    with any_sanhu.uow() as uow:
        events = uow.session.query(ItemEvent).filter_by(item_id=item.id).all()
        assert [(e.event, e.note) for e in events] == [("record", None)]
