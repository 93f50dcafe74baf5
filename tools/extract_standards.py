"""Extract the rural Party-organisation standards catalog from the seed document.

The seed document (a 2020 "三互" activity plan) ends with two lists:

* 农村基层党组织建设基本标准 (the *basic* set, 42 items in 8 categories), and
* 农村基层党组织建设示范标准 (the *demonstration* set, 23 items in 6 categories).

Each category starts with a heading such as ``一、党的组织设置`` and each item with a
number such as ``1.``. This script parses both lists and prints them as the JSON list
shipped in ``ledger/catalog/data/standards.json``, so the data file can be regenerated::

    python tools/extract_standards.py /work/shared/seed/000_c3e73db6805e4a61.txt \
        -o ledger/catalog/data/standards.json

Item texts are copied verbatim (only the ``N.`` prefix and surrounding whitespace are
removed); the seed's ASCII punctuation is kept as is. Note that in the seed the last
demonstration item shares its line with the heading of its category
(``六、示范带动作用显著23.…``); the parser handles that case.

Only the standard library is used.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

#: Section heading lines (stripped) and the ``set`` value of the items under them.
SECTIONS: tuple[tuple[str, str], ...] = (
    ("农村基层党组织建设基本标准", "basic"),
    ("农村基层党组织建设示范标准", "demonstration"),
)

CHINESE_ORDINALS = "一二三四五六七八九十"

#: A category heading, optionally followed on the same line by the first item.
HEADING_RE = re.compile(
    r"^(?P<ordinal>[一二三四五六七八九十])、(?P<category>[^\d]+?)(?P<rest>\d+\..*)?$"
)
#: An item line: ``N.`` followed by the item text.
ITEM_RE = re.compile(r"^(?P<number>\d+)\.(?P<text>.+)$")
#: Characters ending a title when the item has no colon.
TITLE_TERMINATORS_RE = re.compile(r"[，,。;；]")
COLONS_RE = re.compile(r"[：:]")


def derive_title(text: str) -> str:
    """Return the item's title.

    The title is the text before the first colon (full-width or ASCII) when there is
    one, otherwise the first clause: everything before the first comma, full stop or
    semicolon (full-width or ASCII).
    """
    colon = COLONS_RE.search(text)
    if colon is not None:
        return text[: colon.start()].strip()
    terminator = TITLE_TERMINATORS_RE.search(text)
    end = terminator.start() if terminator is not None else len(text)
    return text[:end].strip()


def _entry(set_name: str, category_number: int, category: str, number: int, text: str) -> dict:
    text = text.strip()
    if not text:
        raise ValueError(f"{set_name} item {number} has no text")
    return {
        "set": set_name,
        "number": number,
        "category_number": category_number,
        "category": category,
        "title": derive_title(text),
        "text": text,
    }


def parse_section(lines: list[str], set_name: str) -> list[dict]:
    """Parse the (stripped, non-empty) lines of one standards section into entries.

    Raises ``ValueError`` on any line that is neither a category heading nor an item,
    and on out-of-sequence category ordinals or item numbers.
    """
    entries: list[dict] = []
    category_number = 0
    category: str | None = None
    for line in lines:
        pending_item: str | None = None
        heading = HEADING_RE.match(line)
        if heading is not None:
            category_number += 1
            expected = CHINESE_ORDINALS[category_number - 1]
            if heading["ordinal"] != expected:
                raise ValueError(f"{set_name}: expected category {expected}、 but found {line!r}")
            category = heading["category"].strip()
            pending_item = heading["rest"]
        else:
            pending_item = line
        if pending_item is None:
            continue
        item = ITEM_RE.match(pending_item)
        if item is None:
            raise ValueError(f"{set_name}: unrecognised line {line!r}")
        if category is None:
            raise ValueError(f"{set_name}: item before the first category: {line!r}")
        number = int(item["number"])
        if number != len(entries) + 1:
            raise ValueError(f"{set_name}: expected item {len(entries) + 1}, found {number}")
        entries.append(_entry(set_name, category_number, category, number, item["text"]))
    return entries


def extract(seed_text: str) -> list[dict]:
    """Return the basic entries followed by the demonstration entries from ``seed_text``."""
    lines = [line.strip() for line in seed_text.splitlines()]
    starts = []
    for heading, _set_name in SECTIONS:
        if lines.count(heading) != 1:
            raise ValueError(f"expected exactly one line {heading!r} in the seed")
        starts.append(lines.index(heading))
    if starts != sorted(starts):
        raise ValueError("the standards sections are not in the expected order")
    bounds = [*starts, len(lines)]
    entries: list[dict] = []
    for index, (_heading, set_name) in enumerate(SECTIONS):
        body = [line for line in lines[bounds[index] + 1 : bounds[index + 1]] if line]
        entries.extend(parse_section(body, set_name))
    return entries


def render(entries: list[dict]) -> str:
    """Serialise entries exactly as shipped: ``ensure_ascii=False, indent=1`` plus newline."""
    return json.dumps(entries, ensure_ascii=False, indent=1) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: ``extract_standards.py SEED [-o OUTPUT]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("seed", type=Path, help="path to the seed document (UTF-8 text)")
    parser.add_argument(
        "-o", "--output", type=Path, help="write the JSON here instead of to standard output"
    )
    args = parser.parse_args(argv)
    rendered = render(extract(args.seed.read_text(encoding="utf-8")))
    data = rendered.encode("utf-8")
    if args.output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        args.output.write_bytes(data)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
