"""The layering is declared as import-linter contracts in ``pyproject.toml``.

``make lint`` and CI run ``lint-imports``.  These tests show the contracts hold
for the tree as it is and that they really catch a bad import: each case copies
the three packages into a temporary folder, adds one import that breaks a rule,
and expects ``lint-imports`` to fail naming that contract.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
PACKAGES = ("ledger", "web", "schedules")
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(where: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(where)}
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", "--config", "pyproject.toml"],
                          cwd=where, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def tree_copy(tmp_path_factory) -> Path:
    """The project's packages (Python files only) and its pyproject.toml, copied."""
    base = tmp_path_factory.mktemp("layers")
    for package in PACKAGES:
        shutil.copytree(ROOT / package, base / package,
                        ignore=shutil.ignore_patterns("__pycache__", "templates", "static",
                                                      "translations", "data"))
    shutil.copy(ROOT / "pyproject.toml", base / "pyproject.toml")
    return base


def test_the_tree_keeps_every_contract(tree_copy):
    result = lint_imports(tree_copy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


BAD_IMPORTS = [
    ("ledger/core/errors.py", "import flask",
     "ledger never imports the web or the scheduler frameworks"),
    ("ledger/org/directory.py", "from ledger.items import services",
     "ledger: capability packages in their declared order"),
    ("ledger/catalog/standards.py", "from ledger.calendar import workdays",
     "ledger: capability packages in their declared order"),
    ("ledger/items/services.py", "from ledger.supervision import acts",
     "ledger: capability packages in their declared order"),
    ("schedules/jobs.py", "import web.core.labels",
     "web and schedules sit above ledger; schedules never uses web"),
    ("web/core/labels.py", "from web.items import forms",
     "web: the CLI on top, the page areas, then what every page shares"),
    ("web/auth/views.py", "from web.admin import text",
     "web: the CLI on top, the page areas, then what every page shares"),
]


@pytest.mark.parametrize(("module", "line", "contract"), BAD_IMPORTS,
                         ids=[f"{m}: {line}" for m, line, _ in BAD_IMPORTS])
def test_a_deliberately_broken_import_fails_its_contract(tree_copy, tmp_path, module, line,
                                                         contract):
    broken = tmp_path / "tree"
    shutil.copytree(tree_copy, broken)
    path = broken / module
    path.write_text(path.read_text(encoding="utf-8") + f"\n{line}  # noqa\n", encoding="utf-8")
    result = lint_imports(broken)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"{contract} BROKEN" in result.stdout
