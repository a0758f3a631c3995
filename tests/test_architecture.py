"""House rules that a reviewer would otherwise have to remember."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = ("flask", "flask_sqlalchemy", "flask_login", "flask_wtf", "sqlalchemy", "wtforms")


def imported_modules(path: Path) -> list[str]:
    """Absolute module names a Python file imports (relative imports resolved to their package)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: stays inside matcher.matching
                names.append("matcher.matching")
            else:
                names.append(node.module or "")
    return names


def test_matching_engine_stays_pure():
    engine = ROOT / "matcher" / "matching"
    offenders = []
    for path in sorted(engine.rglob("*.py")):
        for name in imported_modules(path):
            top = name.split(".")[0]
            outside_engine = name.startswith("matcher") and not (
                name == "matcher.matching" or name.startswith("matcher.matching.")
            )
            if top in FORBIDDEN or outside_engine:
                offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert offenders == []


def test_purity_check_catches_an_impure_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import numpy\nfrom flask import g\nfrom matcher.models import User\n")
    assert imported_modules(bad) == ["numpy", "flask", "matcher.models"]


def test_no_legacy_query_api():
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "matcher").rglob("*.py")
        if ".query." in path.read_text() or ".query(" in path.read_text()
    ]
    assert offenders == []
