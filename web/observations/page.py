"""Rendering the observation pages (the views only parse, call services and answer)."""

from __future__ import annotations

import re

from flask import render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ledger.core.errors import DomainError
from ledger.core.models import Cycle, Standard, Unit, User
from ledger.observations import coverage, planning, queries, sheet
from ledger.observations.access import get_observation
from ledger.observations.record import MODES, SECTIONS, may_fill
from ledger.observations.workflow import allowed_events
from web.core.domain_text import MESSAGES, explain
from web.core.labels import CLASS_LABELS

EVENT_LABELS = {"start": _l("Start the observation"), "submit": _l("Submit the record"),
                "revise": _l("Take back for corrections"), "confirm": _l("Confirm the record"),
                "reopen": _l("Reopen the record")}
STATUS_LABELS = {"planned": _l("Planned"), "in_progress": _l("Being observed"),
                 "submitted": _l("Submitted"), "confirmed": _l("Confirmed")}
RESULT_LABELS = {"conform": _l("Conforms (符合)"), "partial": _l("Partly (基本符合)"),
                 "fail": _l("Fails (不符合)"), "na": _l("Not applicable (不适用)")}
SECTION_LABELS = {"listen": _l("Listen (听): the report"), "check": _l("Check (查): records"),
                  "look": _l("Look (看): the site"), "talk": _l("Talk (谈): conversations"),
                  "highlights": _l("Highlights (亮点)"),
                  "experience": _l("Lessons worth copying (经验总结)")}
MODE_LABELS = {"focused": _l("Focused (重点观摩): all lines"),
               "selective": _l("Selective (选择性): chosen categories"),
               "pushing": _l("Pushing (鞭策性): last time's failures first")}
KIND_LABELS = {"village_quarterly": _l("Villages, quarterly"),
               "township_half_yearly": _l("Townships, half-yearly")}

PLAN_LABELS = {"goals": _l("Goals (目标)"), "methods": _l("Methods (方法)"),
               "steps": _l("Steps (步骤)"), "rectification": _l("Rectification (整改)"),
               "guidance": _l("Guidance (指导)"), "use_of_results": _l("Use of results (结果运用)")}

OPEN_LINES = re.compile(r"^(\d+) checklist lines are still open$")
REFUSALS = {
    "no participant has given an evaluation score yet":
        _l("No participant has given an evaluation score yet."),
    "the record can be changed only while the observation is in progress":
        _l("The record can be changed only while the observation is in progress."),
    "only the observing unit and its liaisons fill this record":
        _l("Only the observing unit and its liaisons fill this record."),
    "this standard is not on this record's checklist":
        _l("This standard is not on this record's checklist."),
    "someone else changed this line; here is what it says now":
        _l("Someone else changed this line meanwhile. What it says now is shown; what you "
           "typed is kept so you can save it again."),
    "someone else changed this text; here is what it says now":
        _l("Someone else changed this text meanwhile. What it says now is shown; what you "
           "typed is kept so you can save it again."),
    "someone else changed this evaluation; here is what it says now":
        _l("Someone else changed this evaluation meanwhile. What it says now is shown."),
    "a selective observation needs at least one category":
        _l("A selective observation needs at least one category."),
    "check the line's result and deduction": _l("Check the result and the deduction."),
    "enter a number from 0 to 100": _l("Enter a number from 0 to 100."),
    "enter a number": _l("Enter a number."),
    "enter the participant's name": _l("Enter the participant's name."),
    # ledger.observations.planning
    "enter a name": _l("Enter a name."),
    "enter a date (YYYY-MM-DD)": _l("Enter a date like 2026-12-31."),
    "this name is already used in the plan": _l("This name is already used in the plan."),
    "a group needs at least one observer": _l("A group needs at least one observer."),
    "members are active users of the observing unit or its liaisons":
        _l("Members are active users of the observing unit or its liaisons."),
    "names of at most 100 characters, one per line":
        _l("Names of at most 100 characters, one per line."),
    "this group is used by an observation that has started":
        _l("This group is used by an observation that has started."),
    "this batch is used by an observation that has started":
        _l("This batch is used by an observation that has started."),
    "choose the observations": _l("Tick the targets first."),
    "choose a group or a batch": _l("Choose a group or a batch."),
    "submitted and confirmed observations keep their group and date":
        _l("Submitted and confirmed observations keep their group and date."),
    "a liaison is an active county staff member of the township's county":
        _l("A liaison is an active county staff member of the township's county."),
    "enter at least one theme": _l("Enter at least one theme."),
    "check the cycle's settings": _l("Check the cycle's settings."),
}
#: reasons with a value in them
DAY_OUTSIDE = re.compile(r"^the day must fall in (\S+) \((\S+) to (\S+)\)$")


def event_label(event: str) -> str:
    return str(EVENT_LABELS[event])


def explain_refusal(exc: DomainError) -> str:
    """The sentence for a refusal on these pages (the record's own reasons first)."""
    reason = exc.message
    found = OPEN_LINES.match(reason or "")
    if found:
        return _("%(n)s checklist lines are still open: answer them (or mark the rest as "
                 "conforming) before submitting.", n=int(found.group(1)))
    found = DAY_OUTSIDE.match(reason or "")
    if found:
        return _("The date must fall in %(period)s (%(first)s to %(last)s).",
                 period=found.group(1), first=found.group(2), last=found.group(3))
    known = REFUSALS.get(reason) or MESSAGES.get(reason)
    return str(known) if known else explain(exc)


def _common() -> dict:
    return {"class_labels": CLASS_LABELS, "status_labels": STATUS_LABELS,
            "result_labels": RESULT_LABELS,
            "section_labels": SECTION_LABELS, "mode_labels": MODE_LABELS,
            "kind_labels": KIND_LABELS, "event_labels": EVENT_LABELS}


def render_cycles(uow, actor):
    rows = queries.cycles_overview(uow.session, actor)
    return render_template("observations/cycles.html", rows=rows, **_common())


def render_cycle(uow, actor, cycle_id: int, *, status: str | None, page_no: int,
                 by: str = "observing_unit"):
    listing = queries.targets(uow.session, actor, cycle_id, status=status, page=page_no)
    rows, total = coverage_rows(uow, actor, cycle_id, by)
    observes = actor.role in ("township_staff", "county_staff") and any(
        r.unit_id == actor.unit_id for r in rows)
    return render_template("observations/cycle.html", listing=listing, status=status,
                           coverage=rows, total=total, by=by, observes=observes,
                           themes=planning.themes(uow.session),
                           may_set=actor.role in ("city_staff", "admin"), **_common())


def render(uow, actor, observation_id: int, *, errors: dict | None = None,
           event_error: dict | None = None, status: int = 200):
    """The record page; ``errors`` maps a piece ("line-12") to its refusal and typed input."""
    obs = get_observation(uow, observation_id, actor)
    cycle = uow.session.get(Cycle, obs.cycle_id)
    view = sheet.sheet_of(uow, obs)
    obs.open_lines, obs.evaluations = view.open, view.score.evaluations  # for the guard
    events = allowed_events(obs, actor, uow.context())
    # submit is offered while the record is being filled, with what is missing
    if obs.status == "in_progress" and "submit" not in events and may_fill(uow, obs, actor) \
            and actor.unit_id == obs.observing_unit_id:
        events.insert(0, "submit")
    editable = obs.status == "in_progress" and may_fill(uow, obs, actor)
    observer = uow.session.get(Unit, obs.observing_unit_id)
    categories = uow.session.execute(
        select(Standard.set, Standard.category_number, Standard.category)
        .where(Standard.catalog_version_id == cycle.catalog_version_id)
        .distinct().order_by(Standard.set, Standard.category_number)).all()
    html = render_template(
        "observations/view.html", obs=obs, cycle=cycle, sheet=view, events=events,
        theme=planning.theme_for(uow, obs),
        editable=editable, path=queries.unit_path(uow.session, obs), observer=observer,
        errors=errors or {}, event_error=event_error, sections=SECTIONS, modes=MODES,
        categories=[(f"{s}:{n}", name) for s, n, name in categories], **_common())
    return html, status


def render_highlights(uow, *, q: str, theme: str, county: int | None, kind: str,
                      category: str, page_no: int):
    listing = queries.highlights(uow.session, q=q, theme=theme, county=county, kind=kind,
                                 category=category, page=page_no)
    return render_template("observations/highlights.html", listing=listing, q=q, theme=theme,
                           county=county, kind=kind, category=category, **_common())


def coverage_rows(uow, actor, cycle_id: int, by: str):
    """The coverage table of the cycle page (empty for village secretaries)."""
    if actor.role == "village_secretary":
        return [], None
    rows = coverage.coverage(uow.session, cycle_id, actor, uow.today(), by=by)
    return rows, (coverage.total_of(rows, str(_("Total"))) if rows else None)


def liaison_choices(uow, actor) -> dict:
    """County staff and townships the actor may pair (their county, or all for the city)."""
    scope = actor.scope_clause(Unit)
    townships = uow.session.execute(select(Unit.id, Unit.name, Unit.code).where(
        scope, Unit.level == "township", Unit.active.is_(True)).order_by(Unit.code)).all()
    staff = uow.session.execute(
        select(User.id, User.display_name, Unit.name).join(Unit, Unit.id == User.unit_id)
        .where(scope, User.role == "county_staff", User.active.is_(True))
        .order_by(Unit.code, User.display_name)).all()
    return {"townships": townships, "staff": staff}


def rules_from_form(form) -> dict:
    """The scoring rules as ``scoring.parse_rules`` takes them, from the settings form."""
    standards: dict[str, dict[str, str]] = {}
    caps = {}
    for name, value in form.items():
        if not value.strip():
            continue
        if name.startswith("cap-"):
            caps[name[4:]] = value.strip()
        elif name.startswith(("fail-", "partial-")):
            result, key = name.split("-", 1)
            standards.setdefault(key, {})[result] = value.strip()
    return {"partial": form.get("partial", ""), "fail": form.get("fail", ""),
            "standards": standards, "caps": caps}


def catalog_standards(session) -> list:
    """The current catalog's standards, for the per-standard deduction table."""
    from ledger.catalog.standards import current_catalog

    catalog = current_catalog(session)
    if catalog is None:
        return []
    return session.scalars(select(Standard).where(Standard.catalog_version_id == catalog.id)
                           .order_by(Standard.set, Standard.number)).all()
