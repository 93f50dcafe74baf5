"""The domain stays free of the web and the scheduler (dependencies point inward)."""

import ast
from pathlib import Path

LEDGER = Path(__file__).parents[2] / "ledger"
FORBIDDEN = {"flask", "flask_login", "flask_wtf", "flask_babel", "werkzeug", "apscheduler",
             "web", "schedules"}


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_ledger_never_imports_web_scheduler_or_flask():
    offenders = {
        str(path.relative_to(LEDGER)): sorted(_imported_modules(path) & FORBIDDEN)
        for path in LEDGER.rglob("*.py")
    }
    offenders = {k: v for k, v in offenders.items() if v}
    assert offenders == {}


def test_the_layering_check_would_notice_a_forbidden_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from flask import Flask\nimport schedules.jobs\n", encoding="utf-8")
    assert _imported_modules(bad) & FORBIDDEN == {"flask", "schedules"}
