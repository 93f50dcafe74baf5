"""The ledger list (台账): filters, sorting, pages, counts, export, bulk actions.

Every filter is a GET argument, so a list is a link (bookmarks, the export
button and the state pills all carry the same filter).  The unit picker shows
the chosen unit's path and its children only, which scales to a province.
Bulk actions run each item through the workflow on its own and report, per
item, whether it worked or why it was refused.
"""

from __future__ import annotations

import os
import re
import tempfile
import urllib.parse
from collections.abc import Callable, Iterator, Mapping

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from ledger.calendar.workdays import DeadlineSpec
from ledger.catalog.standards import current_catalog
from ledger.core.errors import DomainError, ValidationError
from ledger.core.models import Cycle, Item, Standard
from ledger.items import services
from ledger.items.export import XLSX_MIMETYPE, export_ledger
from ledger.items.queries import (
    OUTCOMES,
    SORTS,
    STATUSES,
    ItemFilter,
    default_responsible,
    get_item,
    list_items,
    unit_children,
    unit_path,
)
from ledger.items.workflow import RULES_BY_EVENT, allowed_events
from web.core.domain_text import explain, field_errors
from web.core.extensions import sanhu
from web.core.inputs import id_list, to_int
from web.core.labels import CATEGORY_LABELS, DEADLINE_HELP, METHODS
from web.core.text_limits import limited

bp = Blueprint("ledger", __name__, url_prefix="/ledger")

PER_PAGE = 50
#: the query arguments of a list, in the order links carry them
FILTER_ARGS = ("status", "unit", "cycle", "standard", "standard_category", "category",
               "overdue", "light", "outcome", "found_month", "closed_month", "q", "sort")
#: the filters the dashboards link with, shown as badges above the list (no form field)
DASHBOARD_ARGS = ("outcome", "found_month", "closed_month")
MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
LIGHTS = ("red", "yellow", "green")
#: the events offered as bulk actions; who may use each is the workflow's rule
BULK_EVENTS = ("assign", "verify", "close")
#: most items one bulk action takes (a page shows 50)
MAX_BULK = 200

SORT_LABELS = {"newest": _l("Newest first"), "oldest": _l("Oldest first"),
               "deadline": _l("Deadline, earliest first"), "number": _l("By number"),
               "updated": _l("Recently changed")}
SET_LABELS = {"basic": _l("Basic standards"), "demonstration": _l("Demonstration standards")}
CYCLE_KIND_LABELS = {"village_quarterly": _l("village quarterly observation"),
                     "township_half_yearly": _l("township half-yearly observation")}
#: the dashboards' outcome filter, as its badge reads
OUTCOME_LABELS = {"valid": _l("Problems (dismissed ones left out)"),
                  "rectified": _l("Rectified and closed"),
                  "on_time": _l("Rectified on time"), "dismissed": _l("Dismissed (撤销)")}
ACTION_LABELS = {"assign": _l("Assign (交办)"), "verify": _l("Verify (验收)"),
                 "close": _l("Close (销号)")}


# --- reading the list's arguments ----------------------------------------------------


def read_filter(args: Mapping[str, str], actor) -> tuple[ItemFilter, str, dict[str, str]]:
    """The filter, the sort and the normalised arguments to carry in links.

    Unknown values are dropped rather than refused: a list link never breaks.
    """
    kept: dict[str, str] = {}

    def keep(name: str, value):
        if value is not None:
            kept[name] = "1" if value is True else "0" if value is False else str(value)
        return value

    status = keep("status", args.get("status") if args.get("status") in STATUSES else None)
    unit = to_int(args.get("unit"))
    if unit == actor.unit_id:
        unit = None
    keep("unit", unit)
    sort = args.get("sort") if args.get("sort") in SORTS else "newest"
    if sort != "newest":
        kept["sort"] = sort
    text = (args.get("q") or "").strip()[:100] or None
    flt = ItemFilter(
        status=status,
        unit_id=unit,
        cycle_id=keep("cycle", to_int(args.get("cycle"))),
        standard_id=keep("standard", to_int(args.get("standard"))),
        **_standard_category(keep, args.get("standard_category")),
        category=keep("category", args.get("category")
                      if args.get("category") in services.CATEGORIES else None),
        overdue=keep("overdue", {"1": True, "0": False}.get(args.get("overdue", ""))),
        light=keep("light", args.get("light") if args.get("light") in LIGHTS else None),
        outcome=keep("outcome", args.get("outcome") if args.get("outcome") in OUTCOMES
                     else None),
        found_month=keep("found_month", _month(args.get("found_month"))),
        closed_month=keep("closed_month", _month(args.get("closed_month"))),
        text=keep("q", text),
    )
    return flt, sort, {k: kept[k] for k in FILTER_ARGS if k in kept}


def _month(raw: str | None) -> str | None:
    """``2026-11`` as given, or ``None`` for anything else."""
    raw = (raw or "").strip()
    return raw if MONTH.fullmatch(raw) else None


def list_url(kept: Mapping[str, str], endpoint: str = "ledger.index", **changes) -> str:
    """The list's URL with some arguments changed (``None`` drops one)."""
    args = {**kept, **changes}
    return url_for(endpoint, **{k: v for k, v in args.items() if v is not None})


def _standard_category(keep, raw: str | None) -> dict:
    """``basic-3`` → category 3 of the basic standards (the two sets share numbers 1–6)."""
    set_, _, digits = (raw or "").partition("-")
    number = to_int(digits) if set_ in SET_LABELS else None
    if number is None:
        return {}
    keep("standard_category", f"{set_}-{number}")
    return {"standard_set": set_, "standard_category": number}


def _choices(session) -> dict:
    """Cycles, and the current catalog's standards grouped by set and category."""
    cycles = [(c.id, f"{c.period} · {CYCLE_KIND_LABELS.get(c.kind, c.kind)}")
              for c in session.scalars(select(Cycle).order_by(Cycle.period.desc(), Cycle.kind))]
    catalog = current_catalog(session)
    standards: list[tuple[str, list[tuple[int, str]]]] = []
    categories: dict[str, str] = {}
    if catalog is not None:
        rows = session.scalars(select(Standard).where(Standard.catalog_version_id == catalog.id)
                               .order_by(Standard.set, Standard.number))
        for st in rows:
            group = f"{SET_LABELS.get(st.set, st.set)} · {st.category_number} {st.category}"
            if not standards or standards[-1][0] != group:
                standards.append((group, []))
            standards[-1][1].append((st.id, f"{st.number} {st.title}"))
            categories.setdefault(f"{st.set}-{st.category_number}",
                                  f"{SET_LABELS.get(st.set, st.set)} · {st.category_number} "
                                  f"{st.category}")
    return {"cycles": cycles, "standards": standards,
            "standard_categories": list(categories.items())}


def _bulk_events(actor) -> list[str]:
    return [e for e in BULK_EVENTS if actor.role in RULES_BY_EVENT[e].roles]


# --- the list ------------------------------------------------------------------------


@bp.route("/")
@login_required
def index():
    """The filtered, sorted, paged ledger with per-state counts and bulk actions."""
    actor = current_user.actor
    flt, sort, kept = read_filter(request.args, actor)
    page_no = max(1, request.args.get("page", 1, type=int) or 1)
    app = sanhu()
    with app.uow() as uow:
        s = uow.session
        chosen = flt.unit_id or actor.unit_id
        path = unit_path(s, actor, chosen)  # NotFound (404) outside the scope
        children = unit_children(s, actor, chosen)
        page = list_items(s, actor, flt, today=uow.today(), page=page_no, per_page=PER_PAGE,
                          sort=sort, warning_days=app.settings.warning_days, with_counts=True)
        choices = _choices(s)
    events = _bulk_events(actor)
    return render_template(
        "ledger/index.html", page=page, flt=flt, sort=sort, kept=kept, path=path,
        children=children, chosen=chosen, choices=choices, list_url=list_url,
        bulk_events=events, form=BulkForm() if events else None, sorts=SORT_LABELS,
        categories=CATEGORY_LABELS, lights=LIGHTS, statuses=STATUSES,
        action_labels=ACTION_LABELS, back=request.full_path, outcomes=OUTCOME_LABELS,
        dashboard_args=DASHBOARD_ARGS)


# --- the export ----------------------------------------------------------------------


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII fallback and the UTF-8 name (RFC 5987 / 6266)."""
    fallback = filename.encode("ascii", "replace").decode().replace("?", "_")
    return (f'attachment; filename="{fallback}"; '
            f"filename*=UTF-8''{urllib.parse.quote(filename, safe='')}")


def send_xlsx_file(write: Callable[[str], str], prefix: str = "export") -> Response:
    """Run ``write(path)`` into a temporary file, then stream it under the name it returns
    (not cached); the file is removed once sent, or at once when ``write`` fails."""
    fd, path = tempfile.mkstemp(prefix=f"sanhu-{prefix}-", suffix=".xlsx")
    os.close(fd)
    try:
        filename = write(path)
    except BaseException:
        os.unlink(path)
        raise
    response = Response(stream_and_remove(path), mimetype=XLSX_MIMETYPE, direct_passthrough=True)
    response.headers["Content-Length"] = str(os.path.getsize(path))
    response.headers["Content-Disposition"] = content_disposition(filename)
    response.headers["Cache-Control"] = "no-store"
    return response


def send_xlsx_bytes(data: bytes, filename: str) -> Response:
    """A small workbook built in memory, as a download (not cached)."""
    response = Response(data, mimetype=XLSX_MIMETYPE)
    response.headers["Content-Disposition"] = content_disposition(filename)
    response.headers["Cache-Control"] = "no-store"
    return response


def stream_and_remove(path: str, chunk: int = 64 * 1024) -> Iterator[bytes]:
    try:
        with open(path, "rb") as f:
            while data := f.read(chunk):
                yield data
    finally:
        os.unlink(path)


@bp.route("/export.xlsx")
@login_required
def export():
    """Download exactly the filtered list (all pages, same scope and order) as .xlsx.

    The workbook is written to a temporary file in constant memory, then sent in
    chunks; the file is removed when the download ends.
    """
    actor = current_user.actor
    flt, sort, kept = read_filter(request.args, actor)
    app = sanhu()

    def write(path: str) -> str:
        with app.uow() as uow:
            today = uow.today()
            export_ledger(uow.session, actor, flt, path, today=today, zone=app.settings.zone,
                          sort=sort, warning_days=app.settings.warning_days)
        return f"台账-{today.isoformat()}.xlsx"

    try:
        return send_xlsx_file(write)
    except ValidationError as exc:
        if "export" not in exc.fields:
            raise
        flash(_("The list has more rows than one sheet holds (1,048,575); narrow the filter "
                "and export in parts."), "error")
        return redirect(list_url(kept))


# --- bulk actions ----------------------------------------------------------------------


class BulkForm(FlaskForm):
    """The fields of the three bulk actions; which are needed depends on the action."""

    category = SelectField(_l("Category"), validate_choice=False)
    deadline = StringField(_l("Deadline"), validators=[Optional(), limited(20)],
                           description=DEADLINE_HELP)
    note = TextAreaField(_l("Note"), validators=[Optional(), limited(2000)])
    method = SelectField(_l("How it was checked"), validate_choice=False, default="onsite",
                         choices=[SelectChoice(k, v) for k, v in METHODS.items()])
    verify_note = TextAreaField(_l("Verification note"),
                                validators=[Optional(), limited(2000)])
    close_note = TextAreaField(_l("Closing note"), validators=[Optional(), limited(2000)])
    #: the deadline the user saw resolved on the confirm step
    confirmed = HiddenField()
    back = HiddenField()

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.category.choices = [SelectChoice("", "—"), *(SelectChoice(k, str(v))
                                                           for k, v in CATEGORY_LABELS.items())]


class NoSingleResponsible(ValidationError):
    """The item's unit has no candidate, or several, for responsible person (责任人)."""


def assign_to_default_responsible(uow, item_id: int, actor, **kwargs):
    """交办 to the one responsible candidate of the item's unit (``default_responsible``).

    When the workflow would refuse the item anyway, that refusal is what the user
    is told, not the missing person.
    """
    item = get_item(uow.session, actor, item_id)  # NotFound outside the scope
    person_id = None
    if "assign" in allowed_events(item, actor, uow.context()):
        person = default_responsible(uow.session, actor, item.unit_id)
        if person is None:
            raise NoSingleResponsible("the unit has no single responsible person",
                                      fields={"responsible_user_id": "no single candidate"},
                                      unit=item.unit.name)
        person_id = person.id
    return services.assign(uow, item_id, actor, responsible_user_id=person_id, **kwargs)


def _selected_ids() -> list[int]:
    return id_list(request.form.getlist("ids"))


def _back_url(form: BulkForm) -> str:
    back = form.back.data or ""
    return back if back.startswith("/ledger/") and not back.startswith("//") \
        else url_for("ledger.index")


def _check_inputs(action: str, form: BulkForm, ids: list[int]) -> tuple[dict, object]:
    """Field errors of the action's inputs, and the resolved deadline (assign only)."""
    errors: dict[str, str] = {}
    preview = None
    if len(ids) > MAX_BULK:
        errors["ids"] = _("Select at most %(n)s items at once.", n=MAX_BULK)
    if action == "assign":
        if form.category.data not in services.CATEGORIES:
            errors["category"] = _("This field is required.")
        raw = (form.deadline.data or "").strip()
        if not raw:
            errors["deadline"] = _("This field is required.")
        else:
            try:
                spec = DeadlineSpec.parse(raw)
                with sanhu().uow() as uow:
                    preview = services.preview_deadline(uow, spec)
            except ValidationError as exc:
                errors.update(field_errors(exc))
    elif action == "verify":
        if form.method.data not in METHODS:
            errors["method"] = _("This field is required.")
        if not (form.verify_note.data or "").strip():
            errors["verify_note"] = _("This field is required.")
    return errors, preview


def _numbers(actor, ids: list[int]) -> dict[int, str]:
    """Numbers of the selected items the actor sees (others stay unnamed)."""
    with sanhu().uow() as uow:
        return dict(uow.session.execute(
            select(Item.id, Item.number).where(Item.id.in_(ids), actor.scope_clause(Item))
        ).all())


def _run(action: str, form: BulkForm, ids: list[int], actor) -> list:
    factory = sanhu().uow
    if action == "assign":
        return services.bulk(factory, ids, assign_to_default_responsible, actor,
                             category=form.category.data, deadline=form.deadline.data.strip(),
                             note=(form.note.data or "").strip() or None)
    if action == "verify":
        return services.bulk_verify(factory, ids, actor, method=str(METHODS[form.method.data]),
                                    note=form.verify_note.data.strip())
    return services.bulk_close(factory, ids, actor,
                               note=(form.close_note.data or "").strip() or None)


def refusal_text(exc: DomainError) -> str:
    """Why one item of a bulk action was refused, in the user's language."""
    if isinstance(exc, NoSingleResponsible):
        return _("%(unit)s has no single responsible person (none or several); assign this "
                 "item on its own page.", unit=exc.details.get("unit", ""))
    return explain(exc)


@bp.route("/bulk", methods=["POST"])
@login_required
def bulk():
    """Run assign, verify or close over the ticked items and report each item's outcome.

    An assign whose deadline is given in days first shows the date it resolves to
    (and whether it is provisional) and runs only once the user confirms it.
    """
    actor = current_user.actor
    form = BulkForm()
    action = request.form.get("action", "")
    if action not in BULK_EVENTS:
        abort(400)
    if actor.role not in RULES_BY_EVENT[action].roles:
        abort(403)
    if not form.validate_on_submit() and form.csrf_token.errors:
        abort(400)  # CSRFProtect refuses it first; kept for a form used without it
    ids = _selected_ids()
    back = _back_url(form)
    if not ids:
        flash(_("Select at least one item."), "warning")
        return redirect(back)
    errors, preview = _check_inputs(action, form, ids)
    for name, field in form._fields.items():
        errors.update({name: field.errors[0]} if field.errors and name != "csrf_token" else {})
    needs_confirm = (action == "assign" and preview is not None and not errors
                     and DeadlineSpec.parse(form.deadline.data).kind != "date"
                     and form.confirmed.data != form.deadline.data.strip())
    if errors or needs_confirm:
        form.confirmed.data = form.deadline.data.strip() if needs_confirm else ""
        numbers = _numbers(actor, ids)
        return render_template("ledger/bulk.html", form=form, action=action, ids=ids,
                               numbers=numbers, errors=errors, preview=preview, back=back,
                               action_labels=ACTION_LABELS), 200 if needs_confirm else 400
    results = _run(action, form, ids, actor)
    numbers = _numbers(actor, ids)
    for r in results:
        if r.ok:
            numbers[r.item_id] = r.result.number
    rows = [{"id": r.item_id, "number": numbers.get(r.item_id), "ok": r.ok,
             "message": None if r.ok else refusal_text(r.error)} for r in results]
    return render_template("ledger/bulk_results.html", rows=rows, action=action, back=back,
                           ok=sum(r["ok"] for r in rows), preview=preview,
                           action_labels=ACTION_LABELS)
