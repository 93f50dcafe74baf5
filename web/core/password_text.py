"""The sentences for the password policy's codes (``ledger.org.passwords``), in the user's language.

Shared by the account page and the administration pages (create, reset, import).
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ledger.org.passwords import MIN_LENGTH

PASSWORD_CODES = {
    "contains username": _l("The password must not contain the username."),
    "too simple": _l("This password is too simple: no runs such as 1234567890 or qwertyuiop "
                     "and no repeats such as aaaaaaaaaa."),
    "too common": _l("This is one of the most common passwords; choose another."),
}


def password_message(code: str) -> str | None:
    """The sentence for a password code, or None when the code is not about the policy."""
    if code == "too short":
        return _("At least %(n)s characters.", n=MIN_LENGTH)
    message = PASSWORD_CODES.get(code)
    return str(message) if message else None
