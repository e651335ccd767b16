"""The import direction of docs/decisions/0008-layout.md, checked by reading every module's imports.

A package may import only packages below it in ``LAYERS``. The first, mechanical cut of issue 15 moved
files without changing code, so some imports still point upwards; they are listed in ``KNOWN_UPWARDS``
and may only disappear: a new upward import fails, and so does a listed one that is gone (so the list
shrinks with the code instead of hiding new debt).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "exchange"

# Lowest first: each package may import those before it (and itself).
LAYERS = ["core", "stix", "store", "sharing", "orgs", "taxii"]

# (importing module, imported package) pairs against the arrows, left by the file moves of issue 15;
# later items of the issue remove them.
KNOWN_UPWARDS = {
    ("exchange.core.handlers", "taxii"),
    ("exchange.core.ratelimit", "orgs"),
    ("exchange.sharing.access", "orgs"),
    ("exchange.sharing.api", "orgs"),
    ("exchange.sharing.api", "taxii"),
    ("exchange.sharing.collections", "orgs"),
    ("exchange.sharing.groups", "orgs"),
    ("exchange.store.bulk", "orgs"),
    ("exchange.store.ingest", "orgs"),
    ("exchange.store.reads", "orgs"),
    ("exchange.store.reads", "sharing"),
}


def _imported_packages(path: Path) -> set[str]:
    """The second component of every ``exchange.*`` module the file imports, at any depth."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        found.update(n.split(".")[1] for n in names if n.startswith("exchange.") and n.count(".") >= 1)
    return found


def _upward_imports() -> set[tuple[str, str]]:
    upward: set[tuple[str, str]] = set()
    for layer, package in enumerate(LAYERS):
        for path in sorted((ROOT / package).rglob("*.py")):
            module = ".".join(path.relative_to(ROOT.parent).with_suffix("").parts)
            for imported in _imported_packages(path):
                if imported in LAYERS[layer + 1:]:
                    upward.add((module, imported))
    return upward


def test_layers_exist() -> None:
    assert all((ROOT / package / "__init__.py").is_file() for package in LAYERS)


def test_no_new_import_against_the_arrows() -> None:
    upward = _upward_imports()
    assert upward - KNOWN_UPWARDS == set(), "import against the layer order of decision 0008"
    assert KNOWN_UPWARDS - upward == set(), "an upward import is gone: remove it from KNOWN_UPWARDS"


def test_stix_has_no_database() -> None:
    """``stix`` is pure STIX: it must stay usable without a database (decision 0008)."""
    for path in (ROOT / "stix").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith(("sqlalchemy", "exchange.core.db")), path
            if isinstance(node, ast.Import):
                assert not any(a.name.startswith("sqlalchemy") for a in node.names), path
