"""Names shown for the ledger's codes that several pages use."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

#: roles as people call them (SPEC §2)
ROLE_LABELS = {
    "city_staff": _l("City staff"), "county_staff": _l("County staff"),
    "township_staff": _l("Township staff"), "village_secretary": _l("Village secretary"),
    "supervisor": _l("Supervisor"), "admin": _l("Administrator"),
}

#: how an item is to be fixed (整改类别)
CATEGORY_LABELS = {"immediate": _l("Fix at once (立行立改)"),
                   "deadline": _l("Fix by a deadline (限期整改)"),
                   "long_term": _l("Ongoing (长期坚持)")}
#: where a problem was found (问题来源)
SOURCE_LABELS = {"observation": _l("Observation (观摩)"), "inspection": _l("Inspection (督查暗访)"),
                 "patrol": _l("Inspection tour (巡察)"), "self_check": _l("Self-check (自查)"),
                 "other": _l("Other"), "rectification": _l("Rectification plan (整顿)")}
SEVERITY_LABELS = {"minor": _l("Minor"), "normal": _l("Normal"), "serious": _l("Serious")}
#: how a rectification was checked (验收方式)
METHODS = {"onsite": _l("On-site check (实地查看)"), "records": _l("Records checked (查阅资料)"),
           "photos": _l("Photos checked (照片核验)"), "phone": _l("Telephone check (电话核实)")}

#: a unit's class in a cycle (结果运用)
CLASS_LABELS = {"demonstration": _l("Demonstration (示范)"), "middle": _l("Middle (中间)"),
                "lagging": _l("Lagging (后进)")}

#: the help under every deadline field (the spellings of ``DeadlineSpec.parse``)
DEADLINE_HELP = _l("A date (2026-12-31, 2026年12月31日 or 12月31日), N days (10天 or 10d) or "
                   "N working days (10个工作日 or 10w; w means working days), at most two "
                   "years ahead.")

#: the hand-overs of an item announced to the people concerned
#: (``ledger.items.announce.KINDS``): the inbox's badges and the account page's choices
HANDOVER_LABELS = {
    "assigned": _l("Assigned"), "reassigned": _l("Reassigned"),
    "submitted": _l("Submitted as resolved"), "rejected": _l("Returned"),
    "verified": _l("Verified"), "closed": _l("Closed"), "reopened": _l("Reopened"),
    "ext_requested": _l("Extension requested"), "ext_approved": _l("Extension approved"),
    "ext_denied": _l("Extension denied"),
}


def handover_title(kind: str, number: str) -> str | None:
    """The title of a hand-over's announcement in the user's language (None: not one)."""
    titles = {
        "assigned": lambda: _("Assigned to you: %(number)s", number=number),
        "reassigned": lambda: _("Reassigned to you: %(number)s", number=number),
        "submitted": lambda: _("Submitted for verification: %(number)s", number=number),
        "rejected": lambda: _("Returned for more work: %(number)s", number=number),
        "verified": lambda: _("Verified, ready to close: %(number)s", number=number),
        "closed": lambda: _("Closed: %(number)s", number=number),
        "reopened": lambda: _("Reopened at the follow-up check: %(number)s", number=number),
        "ext_requested": lambda: _("Extension requested: %(number)s", number=number),
        "ext_approved": lambda: _("Extension approved: %(number)s", number=number),
        "ext_denied": lambda: _("Extension denied: %(number)s", number=number),
    }
    make = titles.get(kind)
    return make() if make is not None else None
