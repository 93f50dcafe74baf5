"""For tests about other notifications that set items up through the workflow."""

from __future__ import annotations

from sqlalchemy import delete, select

from ledger.core.models import Delivery, Notification
from ledger.items.announce import KINDS


def forget_announcements(app) -> None:
    """Remove the hand-overs' announcements written so far, with their deliveries
    (assigning an item announces it to the responsible person)."""
    with app.uow() as uow:
        ids = select(Notification.id).where(Notification.kind.in_(KINDS))
        uow.session.execute(delete(Delivery).where(Delivery.notification_id.in_(ids)))
        uow.session.execute(delete(Notification).where(Notification.kind.in_(KINDS)))
        uow.commit()
