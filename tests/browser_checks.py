"""What the browser tests check on every page a role reaches (``browser_fixtures.walk``).

* **Readable for everyone (WCAG 2.1 AA):** axe-core, vendored under
  ``tests/browser/vendor/axe-core`` (no network needed), finds no violation of impact
  "serious" or "critical"; each one is reported with its rule, the page and the
  offending elements (with their colours for contrast).
* **Fits a phone:** at 390×844 the page does not scroll sideways (a wide table may
  scroll inside its own box, the page may not); the culprits are named.
* **No English in Chinese:** the page's visible text (not what it shows as code:
  ``<code>``, ``<kbd>``, ``<samp>``, ``<pre>``) has no word of Latin letters that is not a
  code, a number, a name or a file type (``ALLOWED``): such a word reached the page
  without passing through the catalogs.
"""

from __future__ import annotations

import re
from pathlib import Path

AXE = Path(__file__).parent / "browser" / "vendor" / "axe-core" / "axe.min.js"

# --- axe-core ----------------------------------------------------------------------------

#: impacts that fail the test
FAILING = {"serious", "critical"}

#: all of axe's rules (WCAG 2.0/2.1 A and AA, and best practices); violations only, each
#: element with its colours when the rule measured a contrast
RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.map(n => {
      const check = n.any.concat(n.all, n.none).find(c => c.data && c.data.contrastRatio);
      const data = check && check.data;
      const colours = data ? ` (${data.fgColor} on ${data.bgColor}, ${data.contrastRatio}:1)` : '';
      return n.target.join(' ') + colours;
    }),
  }));
}"""


def serious_violations(page, path: str) -> list[str]:
    """One line per serious or critical axe violation on the open page."""
    lines = []
    for v in page.evaluate(RUN):
        if v["impact"] in FAILING:
            shown = "; ".join(v["targets"][:8]) + (" …" if len(v["targets"]) > 8 else "")
            lines.append(f"{v['id']} ({v['impact']}) on {path}: {v['help']}; "
                         f"{len(v['targets'])} element(s): {shown}")
    return lines


def with_axe(context):
    """``context`` with axe-core in every page it opens from now on.  An init script, not
    a <script> tag added to the page: the app's Content-Security-Policy (script-src
    'self') refuses inline scripts, and loosening it (bypass_csp) would also apply the
    inline styles real browsers refuse, so axe would judge another page."""
    context.add_init_script(path=str(AXE))
    return context


# --- the page's width ----------------------------------------------------------------------

#: the page's width against the screen's, and (when wider) the innermost elements that
#: reach past the screen's right edge: where to look
WIDTH = """() => {
  const inner = window.innerWidth, scroll = document.documentElement.scrollWidth;
  const past = el => el.getBoundingClientRect().right > inner + 0.5;
  const culprits = scroll <= inner ? [] : Array.from(document.body.querySelectorAll('*'))
    .filter(el => el.getClientRects().length && past(el)
            && !Array.from(el.children).some(c => c.getClientRects().length && past(c)))
    .slice(0, 5).map(el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
      + (el.className && typeof el.className === 'string'
         ? '.' + el.className.trim().split(/\\s+/).join('.') : '')
      + ' (right edge ' + Math.round(el.getBoundingClientRect().right) + 'px)');
  return {inner, scroll, culprits};
}"""


def too_wide(page, path: str) -> str | None:
    """Why the open page scrolls sideways (None when it does not)."""
    width = page.evaluate(WIDTH)
    if width["scroll"] <= width["inner"]:
        return None
    return (f"{path}: {width['scroll']}px wide in {width['inner']}px; "
            + "; ".join(width["culprits"]))


# --- English in the Chinese interface ---------------------------------------------------

#: a run of Latin letters (a word, with its apostrophes and hyphens)
WORD = re.compile(r"(?<![\w.@/-])[A-Za-z][A-Za-z'’]*(?:-[A-Za-z]+)*(?![\w.@/-])")
#: words that are the same in both languages: file types, products and protocols, the
#: language switch, units of measure, the deadline syntax (10d, 5w: "N 天"), the demo's
#: user names, and the keywords people type in the import formats the pages describe
ALLOWED = {
    "English", "Sanhu", "Excel", "Word", "PDF", "PowerPoint", "Office", "HEIC", "xlsx", "csv",
    "CSV", "XLSX", "PNG", "JPEG", "KB", "MB", "GB", "B", "ECharts", "SMTP", "STARTTLS",
    "Webhook", "URL", "http", "https", "key", "N", "d", "w", "API", "JSON",
    "admin", "city", "supervisor",
    "holiday", "workday", "code", "level", "name", "parent_code", "username",
    "display_name", "role", "unit_code", "email", "phone", "post", "password",
}
#: the visible text of the open page, without what it shows as code
VISIBLE_TEXT = """() => {
  const skip = 'code, kbd, samp, pre, script, style, noscript, template';
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const out = [document.title];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (el && !el.closest(skip) && el.getClientRects().length) out.push(node.textContent);
  }
  return out.join('\\n');
}"""


def english_words(text: str) -> set[str]:
    return {w for w in WORD.findall(text) if w not in ALLOWED}


def english_on(page, path: str) -> str | None:
    """The English words on the open page, each with what surrounds it to find where it
    comes from (None when there are none)."""
    text = page.evaluate(VISIBLE_TEXT)
    words = english_words(text)
    if not words:
        return None
    return f"{path}: " + "; ".join(
        f"{w} in “{' '.join(text[max(0, text.find(w) - 20):text.find(w) + 30].split())}”"
        for w in sorted(words))
