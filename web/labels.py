"""Names shown for the ledger's codes that several pages use."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

#: roles as people call them (SPEC §2)
ROLE_LABELS = {
    "city_staff": _l("City staff"), "county_staff": _l("County staff"),
    "township_staff": _l("Township staff"), "village_secretary": _l("Village secretary"),
    "supervisor": _l("Supervisor"), "admin": _l("Administrator"),
}
