"""The standards catalog: 农村基层党组织建设 基本标准 (basic) and 示范标准 (demonstration).

The catalog ships as ``ledger/catalog/data/standards.json``, extracted verbatim from the 2020
seed document by ``tools/extract_standards.py``. Each entry is a dict with the keys
``set`` ("basic" or "demonstration"), ``number``, ``category_number``, ``category``,
``title`` and ``text``.

This module uses only the standard library (no Flask, no APScheduler).
"""

from __future__ import annotations

import copy
import json
from functools import cache
from importlib.resources import files

#: Names the catalog version shipped in ``ledger/catalog/data/standards.json``.
CATALOG_FILE_VERSION = "2020-seed-1"

#: Keys of a catalog entry as printed by ``sanhu standards --json``, in output order.
PUBLIC_KEYS: tuple[str, ...] = ("set", "number", "category", "title", "text")


@cache
def _catalog_file_entries() -> tuple[dict, ...]:
    """Read and parse the shipped catalog once; callers receive deep copies."""
    resource = files("ledger.catalog") / "data" / "standards.json"
    return tuple(json.loads(resource.read_text(encoding="utf-8")))


def load_catalog_file() -> list[dict]:
    """Return the shipped standards catalog as a list of entry dicts.

    The list holds the 42 basic standards followed by the 23 demonstration standards,
    in seed order. Every call returns fresh copies, so callers may mutate the result
    without affecting later calls.
    """
    return [copy.deepcopy(entry) for entry in _catalog_file_entries()]


def catalog_as_public_json(entries: list[dict]) -> list[dict]:
    """Reduce catalog entries to the public keys ``set, number, category, title, text``.

    The returned dicts are new objects with the keys in exactly that order; this is
    what ``sanhu standards --json`` prints. Extra keys in ``entries`` are dropped.
    """
    return [{key: entry[key] for key in PUBLIC_KEYS} for entry in entries]


# --- in the database ---------------------------------------------------------


def ensure_catalog(session, label: str = CATALOG_FILE_VERSION):
    """Load the shipped catalog as version ``label`` unless it is already there.

    Returns the ``CatalogVersion``.  A version, once loaded, is never changed:
    cycles freeze the version they were opened with.
    """
    from sqlalchemy import insert, select

    from ledger.core.models import CatalogVersion, Standard

    version = session.scalar(select(CatalogVersion).where(CatalogVersion.label == label))
    if version is not None:
        return version
    version = CatalogVersion(label=label)
    session.add(version)
    session.flush()
    session.execute(insert(Standard), [
        {"catalog_version_id": version.id, **entry} for entry in load_catalog_file()
    ])
    return version


def current_catalog(session):
    """The newest catalog version (the one new cycles freeze)."""
    from sqlalchemy import select

    from ledger.core.models import CatalogVersion

    return session.scalar(select(CatalogVersion).order_by(CatalogVersion.id.desc()).limit(1))
