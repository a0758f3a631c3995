"""House rules that a reviewer would otherwise have to remember."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = ("flask", "flask_sqlalchemy", "flask_login", "flask_wtf", "sqlalchemy", "wtforms")


def module_name(path: Path) -> str:
    """The dotted name of a file under ROOT (matcher/rounds/emails.py: matcher.rounds.emails)."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path, module: str | None = None) -> list[str]:
    """Absolute module names a Python file imports, relative imports resolved from `module`
    (the file's own dotted name; from the path when not given)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = (module or module_name(path)).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
                target = ".".join(base + ([node.module] if node.module else []))
                names.append(target)
                if not node.module:  # from .. import models: each name may be a module
                    names += [f"{target}.{alias.name}" for alias in node.names]
            else:
                names.append(node.module or "")
    return names


def outside_engine(name: str) -> bool:
    """True for a module of ours that is not part of the engine."""
    return (name == "matcher" or name.startswith("matcher.")) and not (
        name == "matcher.matching" or name.startswith("matcher.matching.")
    )


def test_matching_engine_stays_pure():
    engine = ROOT / "matcher" / "matching"
    offenders = []
    for path in sorted(engine.rglob("*.py")):
        for name in imported_modules(path):
            if name.split(".")[0] in FORBIDDEN or outside_engine(name):
                offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert offenders == []


def test_purity_check_catches_an_impure_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import numpy\nfrom flask import g\nfrom matcher.models import User\n")
    assert imported_modules(bad, "matcher.matching.bad") == ["numpy", "flask", "matcher.models"]


def test_purity_check_resolves_relative_imports_leaving_the_engine(tmp_path):
    # `from ..models import User` inside matcher/matching/ is matcher.models: impure.
    bad = tmp_path / "sneaky.py"
    bad.write_text("from ..models import User\nfrom .. import notify\nfrom .facts import Fact\n")
    names = imported_modules(bad, "matcher.matching.sneaky")
    assert "matcher.models" in names and "matcher.notify" in names
    assert "matcher.matching.facts" in names
    assert [n for n in names if outside_engine(n)] == [
        "matcher.models",
        "matcher",
        "matcher.notify",
    ]


def test_no_legacy_query_api():
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "matcher").rglob("*.py")
        if ".query." in path.read_text() or ".query(" in path.read_text()
    ]
    assert offenders == []


# Lowest first; a module may import only from its own layer or below. Within the features,
# the order says which may use which (sign-up uses the profile, the dashboard shows rounds
# and feedback). Command-line modules (cli.py) sit with the app at the top.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("engine", ("matcher.matching",)),
    ("models", ("matcher.models", "matcher.config", "matcher.extensions")),
    (
        "shared",
        (
            "matcher.weeks",
            "matcher.timezones",
            "matcher.audit",
            "matcher.links",
            "matcher.reasons",
            "matcher.transaction",
            "matcher.errors",
            "matcher.security",
            "matcher.video_links",
            "matcher.pagecache",
            "matcher.histograms",
        ),
    ),
    ("notify", ("matcher.notify",)),
    ("programmes", ("matcher.programmes",)),
    ("rounds", ("matcher.rounds",)),
    ("feedback", ("matcher.feedback",)),
    ("profile", ("matcher.profile",)),
    ("auth", ("matcher.auth",)),
    ("dashboard", ("matcher.dashboard", "matcher.web")),
    ("roster", ("matcher.roster",)),
    ("scim", ("matcher.scim",)),
    ("admin", ("matcher.admin",)),
    ("app", ("matcher", "matcher.cli", "matcher.backup", "matcher.demo", "matcher.devserver")),
]
APP_LAYER = len(LAYERS) - 1


def layer_of(module: str) -> int:
    """The layer index of a module of ours: the longest matching prefix wins."""
    if module.rsplit(".", 1)[-1] == "cli" and not module.startswith("matcher.matching"):
        return APP_LAYER
    best, best_length = None, -1
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best_length:
                best, best_length = index, len(prefix)
    assert best is not None, f"{module} is in no layer: add it to LAYERS"
    return best


def layer_violations(files: list[tuple[Path, str]]) -> list[str]:
    """'a imports b (layer x above layer y)' for every import that points up."""
    found = []
    for path, module in files:
        mine = layer_of(module)
        for name in imported_modules(path, module):
            if not (name == "matcher" or name.startswith("matcher.")) or name == "matcher":
                continue
            theirs = layer_of(name)
            if theirs > mine:
                found.append(
                    f"{module} imports {name} ({LAYERS[mine][0]} may not use {LAYERS[theirs][0]})"
                )
    return found


def test_imports_run_one_way():
    files = [(p, module_name(p)) for p in sorted((ROOT / "matcher").rglob("*.py"))]
    assert layer_violations(files) == []


def test_layer_check_names_an_upward_import(tmp_path):
    bad = tmp_path / "render.py"
    bad.write_text("from matcher.rounds.weeks import week_of\nfrom matcher.models import User\n")
    assert layer_violations([(bad, "matcher.notify.render")]) == [
        "matcher.notify.render imports matcher.rounds.weeks (notify may not use rounds)"
    ]
    admin = tmp_path / "service.py"
    admin.write_text("from matcher.admin.audit import record\n")
    assert layer_violations([(admin, "matcher.profile.service")]) == [
        "matcher.profile.service imports matcher.admin.audit (profile may not use admin)"
    ]
