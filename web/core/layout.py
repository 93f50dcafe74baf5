"""What every page shares: the navigation for the signed-in user's role.

A link appears only when its blueprint is registered and the role may use it,
so the menu never offers a page that would answer 403.
"""

from __future__ import annotations

from flask import Flask, current_app, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ledger.core.models import Role

STAFF = {Role.CITY_STAFF.value, Role.COUNTY_STAFF.value, Role.TOWNSHIP_STAFF.value}
EVERYONE = {r.value for r in Role}

#: (endpoint, label, roles that see the link)
NAV = (
    ("home.index", _l("Home"), EVERYONE - {Role.ADMIN.value}),
    ("ledger.index", _l("Ledger"), EVERYONE - {Role.ADMIN.value}),
    # village secretaries see their own figures on their home page (and may open this)
    ("dashboard.index", _l("Dashboard"), STAFF | {Role.SUPERVISOR.value}),
    ("observations.cycles", _l("Observations"), EVERYONE - {Role.ADMIN.value}),
    ("items.new", _l("Record a problem"),
     {Role.COUNTY_STAFF.value, Role.TOWNSHIP_STAFF.value, Role.SUPERVISOR.value}),
    ("supervision.board", _l("Overdue board"), STAFF - {"township_staff"} | {"supervisor"}),
    ("observations.liaisons", _l("Liaisons"), {Role.COUNTY_STAFF.value}),
    ("results.weak_units", _l("软弱涣散"),
     {Role.COUNTY_STAFF.value, Role.CITY_STAFF.value, Role.SUPERVISOR.value}),
    ("results.reports_index", _l("Reports (报送)"), STAFF | {Role.SUPERVISOR.value}),
    ("survey.index", _l("Village survey"),
     {Role.VILLAGE_SECRETARY.value, Role.TOWNSHIP_STAFF.value, Role.COUNTY_STAFF.value}),
    ("admin.index", _l("Administration"), {Role.ADMIN.value}),
    ("observations.settings", _l("Observation settings"), {Role.ADMIN.value}),
    ("results.settings", _l("Result settings"), {Role.ADMIN.value}),
)


#: blueprints whose pages belong to another blueprint's entry: an item's page, the
#: evidence and the ledger import are part of the ledger (only "Record a problem"
#: is its own entry, by its endpoint)
SECTIONS = {"items": "ledger.index", "ledger_import": "ledger.index"}


def _active(entries: list[tuple[str, str]], path: str) -> str | None:
    """The one entry (endpoint) of ``entries`` ((endpoint, url)) the current page belongs to.

    The entry whose address is the page's own or its longest leading part wins
    (``/results/reports/…`` is under Reports); else the entry ``SECTIONS`` names for
    the page's blueprint; else the first entry of the same blueprint.  Home
    (``/``) only matches itself.
    """
    best, length = None, -1
    for endpoint, url in entries:
        base = url.rstrip("/")
        under = path == url or (base and (path == base or path.startswith(base + "/")))
        if under and len(base) > length:
            best, length = endpoint, len(base)
    if best is not None:
        return best
    visible = {endpoint for endpoint, _url in entries}
    blueprint = request.blueprint or ""
    if SECTIONS.get(blueprint) in visible:
        return SECTIONS[blueprint]
    return next((e for e, _url in entries if e.split(".")[0] == blueprint), None)


def nav_links() -> list[tuple[str, str, bool]]:
    """(url, label, active) for the current user's menu; at most one entry is active."""
    if not current_user.is_authenticated:
        return []
    from flask import url_for

    shown = [(endpoint, url_for(endpoint), str(label)) for endpoint, label, roles in NAV
             if endpoint in current_app.view_functions
             and current_user.actor.role in roles]
    here = request.script_root + request.path
    active = _active([(endpoint, url) for endpoint, url, _label in shown], here)
    return [(url, label, endpoint == active) for endpoint, url, label in shown]


def has_endpoint(endpoint: str) -> bool:
    return endpoint in current_app.view_functions


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(nav_links=nav_links, has_endpoint=has_endpoint)
