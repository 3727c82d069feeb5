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


def _full_imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_the_api_and_the_website_do_not_import_each_other():
    """Issue 14: the JSON API builds on ``registry.http``, not on the website's views;
    and the website does not reach into the API's modules either."""
    root = CORE.parent
    for package, other in (("api", "registry.web"), ("web", "registry.api.")):
        offenders = {str(p.relative_to(root)): sorted(m for m in _full_imports(p)
                                                      if m.startswith(other))
                     for p in (root / package).rglob("*.py")}
        offenders = {k: v for k, v in offenders.items() if v}
        # the website registers the API's blueprints in one place
        offenders.pop("web/__init__.py", None)
        assert offenders == {}, package
