"""Text limits refused with a message, never cut.

A form's text field gets its limit from ``limited`` (a WTForms ``Length`` with a
message that says how long the text is); the ``field`` macro of ``_forms.html``
renders the limit as ``data-maxlength`` rather than ``maxlength``, so the browser
does not shorten a long paste without a word, and ``static/js/textlimit.js``
shows a live count near the limit.  Line breaks count as one character, as in
the count the user sees (browsers send them as two).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms.validators import Length

TOO_LONG = _l("At most %(max)d characters; this text has %(length)d. Shorten it and send "
              "it again.")


def limited(max_length: int) -> Length:
    """The validator refusing text longer than ``max_length`` characters, saying so."""
    return Length(max=max_length, message=TOO_LONG)


def one_line_break(value):
    """A WTForms filter: the browser's ``\\r\\n`` line breaks as ``\\n`` (counted once)."""
    return value.replace("\r\n", "\n") if isinstance(value, str) else value
