"""The caller's inbox (站内消息) over the API: list, mark one read, mark all read.

The same ``ledger.notify.reminders`` functions as the inbox page: only the
caller's own notifications, another user's id answers 404 and is never touched.
Notifications are not versioned objects: marking one read twice is harmless
and nobody else changes them, so these writes need no ``If-Match``.  Titles
and texts are the stored ones (Chinese); ``kind``, ``item`` and
``offset_days`` let a client build its own.
"""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields as f
from marshmallow import validate as v

from ledger.core.errors import NotFound
from ledger.notify import reminders
from web.api.auth import caller
from web.api.paging import aware
from web.api.schemas import CursorPage
from web.core.extensions import sanhu

blp = Blueprint("api_notifications", __name__, url_prefix="/api/v1",
                description="Your inbox (站内消息): read it and mark messages read")


class NotificationListArgs(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    unread = f.Boolean(load_default=False, metadata={"description": "Only unread messages"})
    limit = f.Integer(load_default=50, validate=v.Range(min=1, max=500))
    cursor = f.String(validate=v.Regexp(r"^[0-9]{1,12}$"),
                      metadata={"description": "``next_cursor`` of the page before"})


class ItemNumber(ma.Schema):
    id = f.Integer(required=True)
    number = f.String(required=True)


class Notification(ma.Schema):
    id = f.Integer(required=True)
    kind = f.String(required=True, metadata={"description": "reminder, overdue, board, urge, "
                                                            "assigned, returned, notice …"})
    audience = f.String(allow_none=True)
    title = f.String(required=True)
    body = f.String(allow_none=True)
    item = f.Nested(ItemNumber, allow_none=True, required=True)
    observation_id = f.Integer(allow_none=True)
    notice_id = f.Integer(allow_none=True)
    subject = f.String(allow_none=True)
    deadline = f.Date(allow_none=True)
    offset_days = f.Integer(allow_none=True,
                            metadata={"description": "Working days to the deadline "
                                                     "(negative: overdue)"})
    created_at = f.AwareDateTime(required=True)
    read_at = f.AwareDateTime(allow_none=True, required=True)


class NotificationList(CursorPage):
    notifications = f.List(f.Nested(Notification), required=True)
    unread = f.Integer(required=True, metadata={"description": "How many are unread in all"})


class Marked(ma.Schema):
    marked = f.Integer(required=True, metadata={"description": "How many became read"})
    unread = f.Integer(required=True)


def _body(row: dict) -> dict:
    item = ({"id": row["item_id"], "number": row["item_number"]}
            if row.get("item_id") is not None else None)
    return {**row, "item": item, "created_at": aware(row["created_at"]),
            "read_at": aware(row["read_at"])}


@blp.route("/notifications")
class Notifications(MethodView):
    @blp.arguments(NotificationListArgs, location="query")
    @blp.response(200, NotificationList)
    def get(self, args):
        """Your messages, newest first (``unread=true`` for unread only), in cursor pages."""
        user_id = caller().user.id
        before = int(args["cursor"]) if args.get("cursor") else None
        with sanhu().uow() as uow:
            rows = reminders.inbox_after(uow, user_id, unread_only=args["unread"],
                                         before_id=before, limit=args["limit"])
            unread = reminders.unread_count(uow, user_id)
        last = rows[-1]["id"] if len(rows) == args["limit"] else None
        return {"notifications": [_body(r) for r in rows], "unread": unread,
                "next_cursor": str(last) if last else None}


@blp.route("/notifications/<int:notification_id>")
class OneNotification(MethodView):
    @blp.response(200, Notification)
    def get(self, notification_id: int):
        """One of your messages."""
        with sanhu().uow() as uow:
            row = reminders.own_notification(uow, caller().user.id, notification_id)
        if row is None:
            raise NotFound("no such message")
        return _body(row)


@blp.route("/notifications/<int:notification_id>/read")
class ReadOne(MethodView):
    @blp.response(200, Notification)
    def post(self, notification_id: int):
        """Mark one of your messages read (again: no change); no ``If-Match`` needed."""
        user_id = caller().user.id
        with sanhu().uow() as uow:
            if reminders.own_notification(uow, user_id, notification_id) is None:
                raise NotFound("no such message")
            reminders.mark_read(uow, user_id, [notification_id])
            return _body(reminders.own_notification(uow, user_id, notification_id))


@blp.route("/notifications/read-all")
class ReadAll(MethodView):
    @blp.response(200, Marked)
    def post(self):
        """Mark all your unread messages read; no ``If-Match`` needed."""
        user_id = caller().user.id
        with sanhu().uow() as uow:
            marked = reminders.mark_read(uow, user_id)
            unread = reminders.unread_count(uow, user_id)
        return {"marked": marked, "unread": unread}
