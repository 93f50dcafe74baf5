"""Write docs/ledger-import-sample.xlsx: the 台账 columns and three sample rows.

Run: ``.venv/bin/python tools/make_ledger_import_sample.py``.  The rows show a
county/township/village path, a unit code, a path without the county, the
date spellings and the status words the import accepts (README "Importing
existing ledgers").
"""

from __future__ import annotations

from pathlib import Path

from ledger.items.ledger_import import sample_xlsx

TARGET = Path(__file__).parents[1] / "docs" / "ledger-import-sample.xlsx"

if __name__ == "__main__":
    TARGET.write_bytes(sample_xlsx())
    print(TARGET)
