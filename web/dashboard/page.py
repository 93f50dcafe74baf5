"""A dashboard as tables: each with its chart, every number a link to the ledger list
that counts it, in the user's language.

The page, the print layout and the .xlsx all read the same ``Table`` objects, so
they show the same numbers.  A chart is a small JSON spec (categories, series,
each bar's link) that ``static/js/dashboard.js`` turns into an ECharts option;
it travels in a ``data-chart`` attribute, never in an inline script (the CSP).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ledger.dashboard.export import Sheet
from ledger.dashboard.figures import Dashboard, Figures
from web.core.labels import CLASS_LABELS
from web.ledger_list.views import CYCLE_KIND_LABELS, SET_LABELS

STATUS_LABELS = {"found": _l("Found"), "assigned": _l("Assigned"),
                 "rectifying": _l("Rectifying"),
                 "submitted": _l("Rectifying · awaiting verification"),
                 "verified": _l("Verified"), "closed": _l("Closed")}
OBSERVATION_LABELS = {"planned": _l("Planned"), "in_progress": _l("Being observed"),
                      "submitted": _l("Submitted"), "confirmed": _l("Confirmed")}


@dataclass
class Cell:
    """One table cell: the raw value (for the workbook), its text and its link."""

    value: object
    text: str
    href: str | None = None


@dataclass
class Table:
    key: str
    title: str
    headers: list[str]
    rows: list[list[Cell]]
    chart: dict | None = None
    note: str = ""
    #: the last row is a total (printed in bold)
    total_row: bool = False
    extra: dict = field(default_factory=dict)


def number(value, href: str | None = None) -> Cell:
    if value is None:
        return Cell(None, "—", None)
    return Cell(value, format_decimal(value, format="#,##0.#"), href)


def percent(value) -> Cell:
    return Cell(value, "—" if value is None else f"{format_decimal(value, format='0.0')}%")


def text(value: str, href: str | None = None) -> Cell:
    return Cell(value, value, href)


def ledger(unit_id: int, **args) -> str:
    """The ledger list of ``unit_id``'s subtree with the given filters."""
    return url_for("ledger.index", unit=unit_id, **args)


def cycle_label(period: str, kind: str) -> str:
    return f"{period} · {CYCLE_KIND_LABELS.get(kind, kind)}"


def chart(kind: str, categories: list[str], series: list[dict], **extra) -> dict:
    return {"kind": kind, "categories": categories, "series": series, **extra}


def series(name, data: list, links: list | None = None, **extra) -> dict:
    return {"name": str(name), "data": data, "links": links or [], **extra}


def status_table(d: Dashboard) -> Table:
    u = d.unit.id
    keys = list(STATUS_LABELS)
    links = [ledger(u, status=s) for s in keys]
    rows = [[text(str(STATUS_LABELS[s])), number(d.own.counts[s], links[i])]
            for i, s in enumerate(keys)]
    rows.append([text(_("All items")), number(sum(d.own.counts[s] for s in keys),
                                              ledger(u))])
    return Table("status", _("Items by status"), [_("Status"), _("Items")], rows,
                 chart("bar", [str(STATUS_LABELS[s]) for s in keys],
                       [series(_("Items"), [d.own.counts[s] for s in keys], links)]),
                 total_row=True)


def key_figures(d: Dashboard) -> Table:
    own, u = d.own, d.unit.id
    rows = [
        [text(_("Problems (dismissed ones left out)")),
         number(own.counts["valid"], ledger(u, outcome="valid"))],
        [text(_("Rectified and closed")),
         number(own.counts["rectified"], ledger(u, outcome="rectified"))],
        [text(_("Rectification rate")), percent(own.rate)],
        [text(_("Rectified on time")),
         number(own.counts["on_time"], ledger(u, outcome="on_time"))],
        [text(_("On-time rate")), percent(own.on_time_rate)],
        [text(_("Open items")), number(own.open)],
        [text(_("Overdue items")), number(own.counts["overdue"], ledger(u, overdue=1))],
        [text(_("Days overdue, mean")), number(own.overdue_mean)],
        [text(_("Days overdue, most")),
         number(own.counts["overdue_max"] if own.counts["overdue"] else None)],
        [text(_("Working days from assignment to 销号, mean")), number(d.close_mean)],
        [text(_("Working days from assignment to 销号, 90th percentile")),
         number(d.close_p90)],
        [text(_("Items closed as rectified, counted for the working days")),
         number(d.close_n)],
    ]
    return Table("figures", _("Key figures"), [_("Indicator"), _("Count or rate")], rows,
                 note=_("Rectification rate = rectified ÷ problems; on-time rate = rectified "
                        "by the deadline ÷ rectified."))


def _with_total(d: Dashboard) -> list[Figures]:
    return [*d.children, d.own]


def rates_table(d: Dashboard) -> Table:
    rows = []
    for f in _with_total(d):
        name = _("Total") if f is d.own else f.name
        rows.append([text(name), number(f.counts["valid"], ledger(f.unit_id, outcome="valid")),
                     number(f.counts["rectified"], ledger(f.unit_id, outcome="rectified")),
                     percent(f.rate),
                     number(f.counts["on_time"], ledger(f.unit_id, outcome="on_time")),
                     percent(f.on_time_rate)])
    kids = d.children
    return Table(
        "rates", _("Rectification by unit"),
        [_("Unit"), _("Problems"), _("Rectified"), _("Rectification rate"),
         _("Rectified on time"), _("On-time rate")], rows,
        chart("bar", [c.name for c in kids], [
            series(_("Rectification rate"), [c.rate or 0 for c in kids],
                   [ledger(c.unit_id, outcome="rectified") for c in kids]),
            series(_("On-time rate"), [c.on_time_rate or 0 for c in kids],
                   [ledger(c.unit_id, outcome="on_time") for c in kids])],
              percent=True, axis=_("Rate (%)")),
        note=_("Rectification rate = rectified ÷ problems; on-time rate = rectified by the "
               "deadline ÷ rectified."), total_row=True)


def overdue_table(d: Dashboard) -> Table:
    rows = []
    for f in _with_total(d):
        name = _("Total") if f is d.own else f.name
        n = f.counts["overdue"]
        rows.append([text(name), number(n, ledger(f.unit_id, overdue=1)),
                     number(f.overdue_mean), number(f.counts["overdue_max"] if n else None)])
    kids = d.children
    return Table(
        "overdue", _("Overdue items by unit"),
        [_("Unit"), _("Overdue items"), _("Days overdue, mean"), _("Days overdue, most")],
        rows, chart("bar", [c.name for c in kids], [
            series(_("Overdue items"), [c.counts["overdue"] for c in kids],
                   [ledger(c.unit_id, overdue=1) for c in kids])], axis=_("Items")),
        note=_("Open (assigned or rectifying, not yet submitted) and past the deadline; days "
               "are calendar days."), total_row=True)


def months_table(d: Dashboard) -> Table:
    u, ms = d.unit.id, d.months
    found = [ledger(u, outcome="valid", found_month=m["month"]) for m in ms]
    closed = [ledger(u, outcome="rectified", closed_month=m["month"]) for m in ms]
    rows = [[text(m["month"]), number(m["found"], found[i]), number(m["closed"], closed[i]),
             percent(m["rate"])] for i, m in enumerate(ms)]
    return Table(
        "months", _("Trend by month"),
        [_("Month"), _("Problems found"), _("Closed (销号)"),
         _("Share of the month's problems closed")], rows,
        chart("trend", [m["month"] for m in ms], [
            series(_("Problems found"), [m["found"] for m in ms], found),
            series(_("Closed (销号)"), [m["closed"] for m in ms], closed),
            series(_("Share of the month's problems closed"),
                   [m["rate"] for m in ms], line=True)],
              axis=_("Items"), axis2=_("Rate (%)")),
        note=_("Problems recorded in the month (dismissed ones left out), problems closed as "
               "rectified in the month, and the share of the month's problems closed by now."))


def highlights_url(d: Dashboard, s: dict) -> str:
    county = d.unit.county_id if d.unit.level in ("county", "township") else None
    return url_for("observations.highlights", category=f"{s['set']}:{s['category']}",
                   county=county)


def standards_table(d: Dashboard) -> Table:
    u, st = d.unit.id, d.standards
    links = [ledger(u, outcome="valid", standard=s["standard_id"]) for s in st]
    names = [f"{SET_LABELS.get(s['set'], s['set'])} {s['number']} {s['title']}" for s in st]
    rows = [[text(names[i]), number(s["n"], links[i]),
             text(_("Highlights of this category"), highlights_url(d, s))]
            for i, s in enumerate(st)]
    short = [f"{s['number']} {s['title'][:10]}" for s in st]
    return Table(
        "standards", _("Standards failed most often"),
        [_("Standard"), _("Problems"), _("Learn from others")], rows,
        chart("hbar", short[::-1], [series(_("Problems"), [s["n"] for s in st][::-1],
                                           links[::-1])], axis=_("Problems")),
        note=_("The standards most problems concern (dismissed ones left out): the common "
               "weaknesses."))


def coverage_table(d: Dashboard) -> Table:
    keys = list(OBSERVATION_LABELS)
    rows = [[text(cycle_label(c["period"], c["kind"]),
                  url_for("observations.cycle", cycle_id=c["cycle_id"])), number(c["total"]),
             *(number(c[k]) for k in keys)] for c in d.coverage]
    cats = [cycle_label(c["period"], c["kind"]) for c in d.coverage]
    return Table(
        "coverage", _("Coverage of the current cycles"),
        [_("Cycle"), _("Observations"), *(str(OBSERVATION_LABELS[k]) for k in keys)], rows,
        chart("stack", cats, [series(OBSERVATION_LABELS[k], [c[k] for c in d.coverage])
                              for k in keys], axis=_("Observations")))


def classes_table(d: Dashboard) -> Table:
    keys = list(CLASS_LABELS)
    rows = [[text(cycle_label(c["period"], c["kind"])), *(number(c[k]) for k in keys)]
            for c in d.classes]
    return Table(
        "classes", _("Classes of the last published rankings"),
        [_("Cycle"), *(str(CLASS_LABELS[k]) for k in keys)], rows,
        chart("stack", [cycle_label(c["period"], c["kind"]) for c in d.classes],
              [series(CLASS_LABELS[k], [c[k] for c in d.classes]) for k in keys],
              axis=_("Units")))


def scores_table(d: Dashboard) -> Table:
    rows = [[text(cycle_label(s["period"], s["kind"])), number(s["score"]), number(s["n"])]
            for s in d.scores]
    return Table(
        "scores", _("Average score by cycle"),
        [_("Cycle"), _("Average score"), _("Confirmed observations")], rows,
        chart("line", [cycle_label(s["period"], s["kind"]) for s in d.scores],
              [series(_("Average score"), [s["score"] for s in d.scores])],
              axis=_("Score")))


def tables(d: Dashboard) -> list[Table]:
    """Every table of the dashboard of ``d.unit``, in the page's order."""
    out = [key_figures(d), status_table(d)]
    if d.children:
        out += [rates_table(d), overdue_table(d)]
    if d.unit.level != "village":  # the trends are kept down to townships
        if d.standards:
            out += [standards_table(d)]
        out += [months_table(d)]
    for make, rows in ((coverage_table, d.coverage), (classes_table, d.classes),
                       (scores_table, d.scores)):
        if rows:
            out.append(make(d))
    return out


def sheets(d: Dashboard, heading: list[str]) -> list[Sheet]:
    """The tables as workbook sheets, each headed by ``heading`` (unit, date, lag)."""
    return [Sheet(t.title, t.headers, [[c.value for c in row] for row in t.rows],
                  notes=[*heading, t.title, *([t.note] if t.note else [])])
            for t in tables(d)]
