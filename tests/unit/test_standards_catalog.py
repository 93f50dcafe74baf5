"""Tests for the shipped standards catalog (ledger/catalog/data/standards.json)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ledger.catalog.standards import CATALOG_FILE_VERSION, catalog_as_public_json, load_catalog_file

REPO_ROOT = Path(__file__).resolve().parents[2]
EXTRACT_SCRIPT = REPO_ROOT / "tools" / "extract_standards.py"
SHIPPED_JSON = REPO_ROOT / "ledger" / "catalog" / "data" / "standards.json"
SEED_FILE_NAME = "000_c3e73db6805e4a61.txt"
SEED_HEADING = "农村基层党组织建设基本标准"


def _seed_dirs() -> list[Path]:
    dirs = []
    if os.environ.get("SANHU_SEED_DIR"):
        dirs.append(Path(os.environ["SANHU_SEED_DIR"]))
    dirs.append(Path(__file__).resolve().parents[2].parent / "shared" / "seed")
    return dirs


def _find_seed() -> Path | None:
    for directory in _seed_dirs():
        candidate = directory / SEED_FILE_NAME
        if candidate.is_file():
            return candidate
    for directory in _seed_dirs():
        if directory.is_dir():
            for candidate in sorted(directory.glob("*.txt")):
                if SEED_HEADING in candidate.read_text(encoding="utf-8", errors="replace"):
                    return candidate
    return None


SEED = _find_seed()
needs_seed = pytest.mark.skipif(
    SEED is None,
    reason=(
        "seed document not found (looked in $SANHU_SEED_DIR and ../shared/seed); "
        "the comparison against the seed cannot run"
    ),
)


@pytest.fixture(scope="module")
def catalog() -> list[dict]:
    return load_catalog_file()


def _entries(catalog: list[dict], set_name: str) -> list[dict]:
    return [entry for entry in catalog if entry["set"] == set_name]


def _entry(catalog: list[dict], set_name: str, number: int) -> dict:
    (found,) = [e for e in _entries(catalog, set_name) if e["number"] == number]
    return found


def test_catalog_file_version_names_the_2020_seed():
    assert CATALOG_FILE_VERSION == "2020-seed-1"


def test_catalog_has_65_entries_basic_first_then_demonstration(catalog):
    assert len(catalog) == 65
    assert [e["set"] for e in catalog] == ["basic"] * 42 + ["demonstration"] * 23


def test_every_entry_has_exactly_the_documented_keys_and_types(catalog):
    for entry in catalog:
        assert list(entry) == ["set", "number", "category_number", "category", "title", "text"]
        assert isinstance(entry["number"], int)
        assert isinstance(entry["category_number"], int)
        for key in ("set", "category", "title", "text"):
            assert isinstance(entry[key], str)
            assert entry[key] == entry[key].strip()
            assert entry[key]


def test_basic_set_has_42_standards_in_8_categories(catalog):
    basic = _entries(catalog, "basic")
    assert len(basic) == 42
    assert sorted({e["category_number"] for e in basic}) == list(range(1, 9))
    assert len({e["category"] for e in basic}) == 8


def test_demonstration_set_has_23_standards_in_6_categories(catalog):
    demonstration = _entries(catalog, "demonstration")
    assert len(demonstration) == 23
    assert sorted({e["category_number"] for e in demonstration}) == list(range(1, 7))
    assert len({e["category"] for e in demonstration}) == 6


@pytest.mark.parametrize("set_name", ["basic", "demonstration"])
def test_numbers_are_contiguous_from_one_and_categories_never_go_backwards(catalog, set_name):
    entries = _entries(catalog, set_name)
    assert [e["number"] for e in entries] == list(range(1, len(entries) + 1))
    category_numbers = [e["category_number"] for e in entries]
    assert category_numbers == sorted(category_numbers)
    names_by_number = {}
    for e in entries:
        assert names_by_number.setdefault(e["category_number"], e["category"]) == e["category"]


def test_category_names_have_no_ordinal_prefix(catalog):
    assert _entry(catalog, "basic", 1)["category"] == "党的组织设置"
    assert _entry(catalog, "demonstration", 1)["category"] == "政治、服务功能完备"
    for entry in catalog:
        assert entry["category"][0] not in "一二三四五六七八九十"
        assert not entry["category"][-1].isdigit()


def test_demonstration_23_is_in_category_6_and_is_not_merged_with_the_heading(catalog):
    item = _entry(catalog, "demonstration", 23)
    assert item["category_number"] == 6
    assert item["category"] == "示范带动作用显著"
    assert item["text"].startswith("党建工作及党建促发展")
    assert item["title"] == "党建工作及党建促发展的方法措施"


def test_no_text_keeps_its_number_prefix(catalog):
    for entry in catalog:
        assert not entry["text"][0].isdigit(), entry


@pytest.mark.parametrize(
    ("number", "title"),
    [(1, "村党组织"), (18, "\u201c三会一课\u201d"), (42, "乡风环境")],
)
def test_basic_titles_are_the_words_before_the_colon(catalog, number, title):
    entry = _entry(catalog, "basic", number)
    assert entry["title"] == title
    assert entry["text"].startswith(title + ":")


def test_every_title_is_a_prefix_of_its_text(catalog):
    for entry in catalog:
        assert entry["text"].startswith(entry["title"]), entry


def test_load_catalog_file_returns_fresh_copies():
    first = load_catalog_file()
    first[0]["title"] = "changed"
    first.pop()
    second = load_catalog_file()
    assert len(second) == 65
    assert second[0]["title"] == "村党组织"


def test_catalog_as_public_json_has_exactly_the_five_keys_in_order(catalog):
    public = catalog_as_public_json(catalog)
    assert len(public) == len(catalog)
    for entry, original in zip(public, catalog, strict=True):
        assert list(entry) == ["set", "number", "category", "title", "text"]
        assert entry == {key: original[key] for key in entry}
    assert "category_number" in catalog[0]


@needs_seed
def test_every_entry_text_appears_verbatim_in_the_seed(catalog):
    seed_text = SEED.read_text(encoding="utf-8")
    for entry in catalog:
        assert f"{entry['number']}.{entry['text']}" in seed_text, entry
        assert entry["category"] in seed_text


@needs_seed
def test_extract_script_reproduces_the_shipped_json_exactly(tmp_path):
    shipped = SHIPPED_JSON.read_bytes()
    to_stdout = subprocess.run(
        [sys.executable, str(EXTRACT_SCRIPT), str(SEED)],
        capture_output=True,
        check=True,
    )
    assert to_stdout.stdout == shipped
    output = tmp_path / "standards.json"
    subprocess.run(
        [sys.executable, str(EXTRACT_SCRIPT), str(SEED), "-o", str(output)],
        capture_output=True,
        check=True,
    )
    assert output.read_bytes() == shipped
