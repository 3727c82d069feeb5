"""The core must stay plain Python: no module under registry/core imports Flask."""

import ast
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "registry" / "core"
FORBIDDEN = ("flask", "flask_sqlalchemy", "flask_login", "flask_babel", "werkzeug")


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_core_has_no_flask_imports():
    offenders = {
        str(path.relative_to(CORE)): sorted(_imported_modules(path) & set(FORBIDDEN))
        for path in CORE.rglob("*.py")
    }
    offenders = {name: mods for name, mods in offenders.items() if mods}
    assert offenders == {}


def test_core_is_not_empty():
    assert len(list(CORE.rglob("*.py"))) >= 3
