"""Everything the item page shows, gathered for one render.

Kept apart from the views in ``web/items/views.py`` so that a refused form and a
plain visit render the same page: the fresh item, the forms the workflow
allows now, and (after a refusal) the user's own form with what they typed.
"""

from __future__ import annotations

import datetime as dt

from flask import render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from ledger.core.actors import Actor
from ledger.core.errors import NotFound
from ledger.core.models import Cycle, Evidence, ItemEvent, Standard, Unit, User
from ledger.core.uow import UnitOfWork
from ledger.items import services as svc
from ledger.items.ledger_columns import LEDGER_COLUMNS
from ledger.items.queries import get_item, item_rows, responsible_candidates
from ledger.items.workflow import ITEM_LEVELS
from ledger.observations.access import get_observation
from ledger.supervision.board import withheld_notes
from web.core.labels import CATEGORY_LABELS, ROLE_LABELS, SEVERITY_LABELS, SOURCE_LABELS
from web.core.uploads import KeptFile
from web.items.forms import EVENT_FORMS, EVENT_LABELS
from web.supervision.views import item_card as supervision_card

#: the record form's cycle choices besides the cycles: the open cycle of the unit's kind
#: (the default), and no cycle at all
AUTOMATIC_CYCLE, NO_CYCLE = 0, -1

#: how many units a picker lists before asking for a narrower scope
UNIT_PICKER_LIMIT = 3000


def units_below(uow: UnitOfWork, actor: Actor) -> list[Unit]:
    """Townships and villages in the actor's subtree, below their own unit (for pickers)."""
    return list(uow.session.scalars(
        select(Unit).where(actor.scope_clause(Unit), Unit.id != actor.unit_id,
                           Unit.level.in_(sorted(ITEM_LEVELS)), Unit.active.is_(True))
        .order_by(Unit.township_id, Unit.level, Unit.code).limit(UNIT_PICKER_LIMIT)))


def unit_choices(units: list[Unit]) -> list[SelectChoice]:
    """Townships followed by their villages, the villages indented."""
    return [SelectChoice(u.id, ("\u3000" if u.level == "village" else "") + f"{u.name} ({u.code})")
            for u in units]


def fill_choices(uow: UnitOfWork, actor: Actor, item_id: int, event: str, form) -> None:
    """Give the form of ``event`` its choices (``NotFound`` when the item is out of scope)."""
    item = get_item(uow.session, actor, item_id)
    if event == "assign":
        people = responsible_candidates(uow.session, actor, item.unit_id)
        form.responsible_user_id.choices = [SelectChoice(p.id, _person(p)) for p in people]
        if len(people) == 1 and not form.is_submitted():
            form.responsible_user_id.data = people[0].id
    elif event == "reassign":
        form.unit_id.choices = unit_choices(units_below(uow, actor))
        if form.unit_id.data is None or not form.is_submitted():
            form.unit_id.data = item.unit_id
        people = responsible_candidates(uow.session, actor, item.unit_id)
        form.responsible_user_id.choices = [
            SelectChoice(0, _l("— the secretary of the chosen unit —")),
            *(SelectChoice(p.id, _person(p)) for p in people)]


def _person(user: User) -> str:
    return f"{user.display_name}" + (f" · {user.post}" if user.post else "")


def fill_record_choices(uow: UnitOfWork, actor: Actor, form) -> None:
    """Units below the actor, the current catalog's standards, the cycles."""
    form.unit_id.choices = unit_choices(units_below(uow, actor))
    standards = uow.session.scalars(
        select(Standard).where(Standard.catalog_version_id == _latest_catalog(uow))
        .order_by(Standard.set, Standard.number)).all()
    set_labels = {"basic": str(_l("Basic standard")), "demonstration": str(_l("Model standard"))}
    form.standard_id.choices = [SelectChoice(0, _l("— none —")), *(
        SelectChoice(s.id, f"{s.number} · {s.title[:40]}",
                     optgroup=f"{set_labels.get(s.set, s.set)} · {s.category}")
        for s in standards)]
    cycles = uow.session.scalars(select(Cycle).order_by(Cycle.opened_at.desc()).limit(12)).all()
    form.cycle_id.choices = [SelectChoice(AUTOMATIC_CYCLE, _l("— the open cycle of the unit —")),
                             SelectChoice(NO_CYCLE, _l("— none —")),
                             *(SelectChoice(c.id, c.period) for c in cycles)]
    village, township = (svc.open_cycle_of(uow, level) for level in ("village", "township"))
    none = str(_l("none opened"))
    form.cycle_id.description = _l(
        "The open cycle: %(village)s for a village, %(township)s for a township.",
        village=village.period if village else none,
        township=township.period if township else none)


def _latest_catalog(uow: UnitOfWork):
    from ledger.core.models import CatalogVersion
    return uow.session.scalar(select(CatalogVersion.id).order_by(CatalogVersion.id.desc())
                              .limit(1))


def render(uow: UnitOfWork, item_id: int, active_event: str | None = None, active_form=None, *,
           kept: list[KeptFile] = (), message: str | None = None, status: int = 200,
           conflict: bool = False, preview: dict | None = None):
    """Render the item page (``NotFound`` outside the user's scope)."""
    actor = current_user.actor
    s = uow.session
    item = get_item(s, actor, item_id)
    today = uow.today()
    events = svc.available_events(uow, item_id, actor)
    forms = {}
    for event in events:
        if event == active_event and active_form is not None:
            form = active_form
        else:
            form = EVENT_FORMS[event](prefix=event, formdata=None)
            fill_choices(uow, actor, item_id, event, form)
        form.expected_version.data = str(item.version)
        forms[event] = form
    stale_form = active_form if active_event and active_event not in forms else None

    unit_ids = {i for i in (item.county_id, item.township_id, item.village_id) if i}
    units = {u.id: u for u in s.scalars(select(Unit).where(Unit.id.in_(unit_ids)))}
    history = list(s.scalars(select(ItemEvent).where(ItemEvent.item_id == item.id)
                             .order_by(ItemEvent.seq)))
    evidence = list(s.scalars(select(Evidence).where(Evidence.item_id == item.id)
                              .order_by(Evidence.id)))
    people_ids = {e.actor_id for e in history} | {
        i for i in (item.responsible_user_id, item.verifier_id, item.created_by_id,
                    item.submitted_by_id) if i}
    people = {u.id: u for u in s.scalars(select(User).where(User.id.in_(people_ids)))}
    by_event: dict[int | None, list[Evidence]] = {}
    for ev in evidence:
        by_event.setdefault(ev.event_id, []).append(ev)
    # the traffic light and days overdue as every list computes them (one row, in SQL)
    (row,) = item_rows(s, [item.id], today, uow.settings.warning_days)
    overdue = ({"days": row["days_overdue"], "workdays": row["workdays_overdue"]}
               if row["overdue"] else None)
    order = request.args.get("history")
    order = order if order in HISTORY_ORDERS else None
    return render_template(
        "items/view.html", item=item, status=item.status, units=units,
        standard=s.get(Standard, item.standard_id) if item.standard_id else None,
        cycle=s.get(Cycle, item.cycle_id) if item.cycle_id else None,
        history=history, history_order=order,
        shown_history=history[::-1] if order == "newest" else history,
        banners=banners(item, history, people, overdue),
        show_version=actor.role != "village_secretary",  # an internal field for them
        withheld=withheld_notes(s, actor, history), evidence=evidence,
        evidence_by_event=by_event, people=people,
        forms=forms, labels=EVENT_LABELS, role_labels=ROLE_LABELS, active_event=active_event,
        import_headers={c.key: c.header for c in LEDGER_COLUMNS},
        stale_form=stale_form, kept=list(kept), message=message, conflict=conflict,
        preview=preview, light=row["light"], overdue=overdue,
        today=today, source_labels=SOURCE_LABELS, severity_labels=SEVERITY_LABELS,
        category_labels=CATEGORY_LABELS,
        supervision=supervision_card(s, actor, item.id, item.state),
        observation_id=_observation_seen(uow, actor, item.observation_id),
    ), status


#: the history orders a user can ask for (``?history=``); without one, the history is
#: newest-first on a phone and oldest-first from the small breakpoint on
HISTORY_ORDERS = ("newest", "oldest")


def banners(item, history: list[ItemEvent], people: dict[int, User],
            overdue: dict | None) -> list[dict]:
    """What matters first on the item page, most pressing first: sent back (and not
    submitted again since), overdue, an extension awaiting a decision, listed for
    supervision (挂牌督办), the deadline extended.  Each banner: kind, the event it
    tells of (or None) and its fields."""
    def last(*events):
        return next((h for h in reversed(history) if h.event in events), None)

    def who(event):
        return people[event.actor_id].display_name if event and event.actor_id in people \
            else None

    found = []
    open_ = item.closed_at is None and item.resolution != "dismissed"
    rejected = last("reject")
    if open_ and rejected is not None and not item.submitted \
            and rejected.seq > getattr(last("submit"), "seq", -1):
        found.append({"kind": "rejected", "event": rejected, "who": who(rejected),
                      "count": item.rejection_count})
    if overdue:
        found.append({"kind": "overdue", "event": None, **overdue})
    if open_ and item.pending_extension:
        asked = last("request_extension")
        found.append({"kind": "extension_pending", "event": asked, "who": who(asked),
                      "deadline": _day(item.pending_extension.get("deadline")),
                      "reason": item.pending_extension.get("reason")})
    marks = item.supervision or {}
    if open_ and marks.get("listed"):
        listed = last("listing")
        found.append({"kind": "listed", "event": listed, "who": who(listed),
                      "until": _day(marks.get("listed_until"))})
    if open_ and item.extension_count:
        approved = last("approve_extension")
        found.append({"kind": "extended", "event": approved, "who": who(approved),
                      "count": item.extension_count})
    return found


def _day(value: str | None) -> dt.date | None:
    """A stored ISO date as a date (None when absent or unreadable)."""
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _observation_seen(uow, actor, observation_id: int | None) -> int | None:
    """The observation the item came from, when the user may open it."""
    if observation_id is None:
        return None
    try:
        return get_observation(uow, observation_id, actor).id
    except NotFound:
        return None


def render_record(form, preview: dict | None):
    return render_template("items/new.html", form=form, preview=preview)
