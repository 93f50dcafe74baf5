"""Names shown for the ledger's codes that several pages use."""

from __future__ import annotations

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
