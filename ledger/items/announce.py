"""Every hand-over of an item is announced, declared as data in one place.

``ANNOUNCEMENTS`` says, per workflow event, which kind of notification it
makes, to whom (the rules of ``RECIPIENTS``) and with what text.  The one
path every event takes (``ledger.items.services._apply_transition``) calls
``announcements`` after writing the history entry and hands the rows to
``UnitOfWork.announce`` in the same transaction: an event and its
announcements are written together or not at all.  The dedupe key is the
history entry's id and the recipient's, so an event is announced once per
recipient.  The actor never gets their own event.

The text is stored in Chinese, like the reminders' (the e-mail and the group
robot send it as stored); the inbox builds the title again in the user's
language from the kind and the item's number (``web.inbox.views.title_for``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.calendar.dates import chinese_date
from ledger.core.actors import Actor
from ledger.core.models import Item, Role, User
from ledger.items.workflow import RULES_BY_EVENT
from ledger.org.directory import active_users


@dataclass(frozen=True)
class Announcement:
    """What one event announces: the notification's kind, recipients and text.

    ``title`` and ``detail`` are format strings: ``{number}`` (the item's),
    ``{note}`` (the history entry's note), ``{requested}`` (the requested deadline),
    ``{deadline}`` (the item's deadline after the event).
    """

    kind: str
    recipients: tuple[str, ...]
    title: str
    detail: str | None = None


#: event → announcement; events not listed (accept, report_progress, dismiss) announce nothing
ANNOUNCEMENTS: dict[str, Announcement] = {
    "assign": Announcement("assigned", ("responsible",), "交办：{number}"),
    "reassign": Announcement("reassigned", ("responsible",), "改派：{number}",
                             "改派理由：{note}"),
    "submit": Announcement("submitted", ("verifiers",), "申请销号，待验收：{number}",
                           "整改情况：{note}"),
    "reject": Announcement("rejected", ("responsible",), "退回重新整改：{number}",
                           "退回理由：{note}"),
    "verify": Announcement("verified", ("closers",), "已验收，待销号：{number}"),
    "close": Announcement("closed", ("responsible", "township"), "已销号：{number}"),
    "reopen": Announcement("reopened", ("responsible", "township"),
                           "回头看，重新整改：{number}", "理由：{note}"),
    "request_extension": Announcement("ext_requested", ("deciders",), "申请延期：{number}",
                                      "申请延至 {requested}，理由：{note}"),
    "approve_extension": Announcement("ext_approved", ("requester",), "延期已批准：{number}",
                                      "新的整改时限：{deadline}"),
    "deny_extension": Announcement("ext_denied", ("requester",), "延期被驳回：{number}",
                                   "驳回理由：{note}"),
}

#: the kinds of hand-over, in the order of the workflow (the account page lists them)
KINDS: tuple[str, ...] = tuple(dict.fromkeys(a.kind for a in ANNOUNCEMENTS.values()))


@dataclass(frozen=True)
class Person:
    """One user by id (when active), told as ``audience``."""

    user_id: int | None
    audience: str


@dataclass(frozen=True)
class Staff:
    """The active users of ``roles`` in one unit, told as ``audience``."""

    unit_id: int | None
    roles: frozenset[str]
    audience: str


def _verifiers(item, before: dict) -> Staff:
    """Who may fire ``verify``: staff above the item; the nearest ones (the township's
    for a village's item, the county's for a township's)."""
    if item.village_id is not None:
        return Staff(item.township_id, RULES_BY_EVENT["verify"].roles, "township")
    return Staff(item.county_id, RULES_BY_EVENT["verify"].roles, "county")


#: recipient rule → who, from the item after the event and its values before
RECIPIENTS: dict[str, Callable[[object, dict], Person | Staff]] = {
    "responsible": lambda item, before: Person(item.responsible_user_id, "responsible"),
    "verifiers": _verifiers,
    "closers": lambda item, before: Staff(item.county_id, RULES_BY_EVENT["close"].roles,
                                          "county"),
    "township": lambda item, before: Staff(item.township_id,
                                           frozenset({Role.TOWNSHIP_STAFF.value}), "township"),
    "deciders": lambda item, before: Staff(
        item.county_id, RULES_BY_EVENT["approve_extension"].roles, "county"),
    "requester": lambda item, before: Person(
        (before.get("pending_extension") or {}).get("by"), "requester"),
}


def _recipients(session: Session, rules: list[Person | Staff]) -> dict[int, str]:
    """user id → audience (the first rule that names a user wins)."""
    people = [r.user_id for r in rules if isinstance(r, Person) and r.user_id is not None]
    active = set(session.scalars(select(User.id).where(
        User.id.in_(people), User.active.is_(True)))) if people else set()
    out: dict[int, str] = {}
    for rule in rules:
        if isinstance(rule, Person):
            if rule.user_id in active:
                out.setdefault(rule.user_id, rule.audience)
        elif rule.unit_id is not None:
            for user_id in active_users(session, [rule.unit_id], rule.roles).get(rule.unit_id,
                                                                                   []):
                out.setdefault(user_id, rule.audience)
    return out


def announcements(session: Session, item, actor: Actor, event: str, event_id: int,
                  note: str | None, changes: dict, before: dict) -> list[dict]:
    """The notification rows announcing ``event`` (history entry ``event_id``) on ``item``.

    ``item`` is the item after the event (an ``ItemSnapshot``), ``before`` its
    values the event replaced.  Nobody gets their own event.
    """
    spec = ANNOUNCEMENTS.get(event)
    if spec is None:
        return []
    to = _recipients(session, [RECIPIENTS[name](item, before) for name in spec.recipients])
    to.pop(actor.id, None)
    if not to:
        return []
    description = session.scalar(select(Item.description).where(Item.id == item.id)) or ""
    requested = (changes.get("pending_extension") or {}).get("deadline", "")
    with contextlib.suppress(ValueError, TypeError):
        requested = chinese_date(dt.date.fromisoformat(requested))
    values = {"number": item.number, "note": (note or "").strip(), "requested": requested,
              "deadline": chinese_date(item.deadline) if item.deadline else ""}
    body = f"{item.number} {description[:300]}"
    if item.deadline is not None:
        body += f"（整改时限 {chinese_date(item.deadline)}）"
    if spec.detail and (values["note"] or "{note}" not in spec.detail):
        body += "\n" + spec.detail.format(**values)
    title = spec.title.format(**values)[:200]
    return [{"user_id": user_id, "kind": spec.kind, "audience": audience, "item_id": item.id,
             "deadline": item.deadline, "title": title, "body": body,
             "dedupe_key": f"h:{event_id}:{user_id}"}
            for user_id, audience in to.items()]
