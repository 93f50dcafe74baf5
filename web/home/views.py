"""The home page: what the signed-in user has to do next, by role.

Village secretaries see their tasks to accept, in progress, rejected back and
awaiting verification; county and township staff the findings to assign, the
submissions to verify, (county) the verified items to close and the counts by
status; city staff the counts and the overdue items; supervisors the overdue
items.  Administrators go to the administration pages.  Each section is one
short scoped query (``ledger.items.queries.home_items``) with a link to the full,
filtered ledger list.  A village secretary also sees the village's own figures: open
items, the on-time rate, and its score and class over the last cycles.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from flask import Blueprint, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy.orm import Session

from ledger.core.actors import Actor
from ledger.core.models import Cycle, Role, Unit
from ledger.dashboard.village import village_panel
from ledger.items.queries import (
    COUNT_CAP,
    ItemFilter,
    Page,
    count_by_status,
    home_items,
    overdue_items,
)
from ledger.results import pairing
from web.core.extensions import sanhu
from web.core.labels import CLASS_LABELS
from web.ledger_list.views import CYCLE_KIND_LABELS

bp = Blueprint("home", __name__)

#: rows per section; the "see all" link opens the full list
ROWS = 10


@dataclass(frozen=True)
class SectionSpec:
    """One section of a home page: which items, in which order, and the full list's filter."""

    key: str
    title: object  # a lazy string
    status: str | None = None
    below_own_unit: bool = False
    #: True: only items sent back (退回) at least once; False: only the others; None: all
    rejected_back: bool | None = None
    overdue: bool = False
    #: the actor's own unit's items (a township rectifies findings against itself)
    own_unit: bool = False
    #: shown only when it has rows
    hide_empty: bool = False
    sort: str = "deadline"
    empty: object = _l("Nothing to do here.")


@dataclass
class Section:
    """A section ready to show: its rows and the link to all of them."""

    spec: SectionSpec
    page: Page
    see_all: str


TO_ACCEPT = SectionSpec("to-accept", _l("To accept"), status="assigned")
#: the items sent back are in REJECTED only: every item is listed once
IN_PROGRESS = SectionSpec("in-progress", _l("In progress"), status="rectifying",
                          rejected_back=False)
REJECTED = SectionSpec("rejected-back", _l("Rejected back"), status="rectifying",
                       rejected_back=True)
AWAITING = SectionSpec("awaiting-verification", _l("Awaiting verification"), status="submitted")
TO_ASSIGN = SectionSpec("to-assign", _l("Findings to assign"), status="found",
                        below_own_unit=True, sort="oldest")
TO_VERIFY = SectionSpec("to-verify", _l("Submissions awaiting your verification"),
                        status="submitted", below_own_unit=True)
TO_CLOSE = SectionSpec("to-close", _l("Verified items to close"), status="verified",
                       below_own_unit=True, sort="oldest")
OWN_TO_ACCEPT = SectionSpec("own-to-accept", _l("Your unit's own findings to accept"),
                            status="assigned", own_unit=True, hide_empty=True)
OWN_IN_PROGRESS = SectionSpec("own-in-progress", _l("Your unit's own rectification in progress"),
                              status="rectifying", own_unit=True, hide_empty=True)
OVERDUE = SectionSpec("overdue", _l("Overdue items"), overdue=True,
                      empty=_l("No overdue items."))

#: role → (sections, whether the counts by status are shown)
LAYOUTS: dict[str, tuple[tuple[SectionSpec, ...], bool]] = {
    Role.VILLAGE_SECRETARY.value: ((TO_ACCEPT, IN_PROGRESS, REJECTED, AWAITING), False),
    Role.TOWNSHIP_STAFF.value: ((TO_ASSIGN, TO_VERIFY, OWN_TO_ACCEPT, OWN_IN_PROGRESS), True),
    Role.COUNTY_STAFF.value: ((TO_ASSIGN, TO_VERIFY, TO_CLOSE), True),
    Role.CITY_STAFF.value: ((OVERDUE,), True),
    Role.SUPERVISOR.value: ((OVERDUE,), False),
}


def _see_all(spec: SectionSpec) -> str:
    """The ledger list filtered like the section (the list has no rejected-back filter)."""
    if spec.overdue:
        return url_for("ledger.index", overdue=1, sort="deadline")
    return url_for("ledger.index", status=spec.status, sort=spec.sort)


def _load(session: Session, actor: Actor, spec: SectionSpec, today: dt.date,
          warning_days: int) -> Page:
    if spec.overdue:
        return overdue_items(session, actor, today=today, per_page=ROWS,
                             warning_days=warning_days)
    return home_items(session, actor, ItemFilter(status=spec.status), today=today,
                      below_own_unit=spec.below_own_unit, rejected_back=spec.rejected_back,
                      own_unit=spec.own_unit, per_page=ROWS, sort=spec.sort,
                      warning_days=warning_days)


def build_home(session: Session, actor: Actor, today: dt.date, warning_days: int,
               link: Callable[[SectionSpec], str] = _see_all):
    """The sections and counts (or None) of ``actor``'s home page."""
    specs, with_counts = LAYOUTS.get(actor.role, ((), False))
    sections = [Section(spec, _load(session, actor, spec, today, warning_days), link(spec))
                for spec in specs]
    sections = [s for s in sections if s.page.rows or not s.spec.hide_empty]
    counts = count_by_status(session, actor, None, today) if with_counts else None
    return sections, counts


@bp.route("/")
@login_required
def index():
    """The signed-in user's to-do sections; administrators go to the administration."""
    actor = current_user.actor
    if actor.role == Role.ADMIN.value:
        return redirect(url_for("admin.index"))
    with sanhu().uow() as uow:
        sections, counts = build_home(uow.session, actor, uow.today(),
                                      uow.settings.warning_days)
        pairs = _pairs(uow.session, actor)
        panel = (village_panel(uow.session, actor, uow.today())
                 if actor.role == Role.VILLAGE_SECRETARY.value else None)
    return render_template("home/index.html", sections=sections, counts=counts,
                           cap=COUNT_CAP, pairs=pairs, panel=panel,
                           class_labels=CLASS_LABELS, kind_labels=CYCLE_KIND_LABELS)


def _pairs(session, actor) -> list[dict]:
    """The 互帮 pairs the user's own unit belongs to (newest cycle first)."""
    rows = []
    for pair in pairing.pairs_of(session, actor.unit_id)[:3]:
        mine = pair.lagging_unit_id == actor.unit_id
        other_id = pair.partner_unit_id if mine else pair.lagging_unit_id
        other = session.get(Unit, other_id)
        rows.append({"id": pair.id, "other": other.name,
                     "role": "lagging" if pair.lagging_unit_id == actor.unit_id else "partner",
                     "period": session.get(Cycle, pair.cycle_id).period})
    return rows
