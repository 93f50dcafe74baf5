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


def nav_links() -> list[tuple[str, str, bool]]:
    """(url, label, active) for the current user's menu."""
    if not current_user.is_authenticated:
        return []
    from flask import url_for

    links = []
    for endpoint, label, roles in NAV:
        if endpoint not in current_app.view_functions or current_user.actor.role not in roles:
            continue
        blueprint = endpoint.split(".")[0]
        links.append((url_for(endpoint), str(label), request.blueprint == blueprint))
    return links


def has_endpoint(endpoint: str) -> bool:
    return endpoint in current_app.view_functions


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(nav_links=nav_links, has_endpoint=has_endpoint)
