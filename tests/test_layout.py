"""The import direction of docs/decisions/0008-layout.md, checked by reading every module's imports.

A package may import only itself and the packages below it in ``LAYERS``. Tables are the one
exception: every feature's ``models`` module may be imported from any layer (the schema is shared,
behaviour is layered), and in exchange a ``models`` module imports nothing above ``stix``.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "exchange"

# Lowest first: each package may import those before it (and itself).
LAYERS = ["core", "stix", "orgs", "sharing", "store", "taxii", "notify", "assets", "feeds", "alerts", "web"]
TABLES_MAY_IMPORT = {"core", "stix"}


def _imported_modules(path: Path) -> set[str]:
    """Every ``exchange.*`` module the file imports, at any depth (``from exchange.x import y`` counts
    ``exchange.x.y`` when ``y`` is a module, else ``exchange.x``)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                as_path = ROOT.parent.joinpath(*candidate.split("."))
                found.add(candidate if as_path.with_suffix(".py").is_file() else node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.startswith("exchange.") and name.count(".") >= 1}


def _modules(package: str) -> list[tuple[str, Path]]:
    return [(".".join(path.relative_to(ROOT.parent).with_suffix("").parts), path)
            for path in sorted((ROOT / package).rglob("*.py"))]


def _against_the_arrows() -> set[tuple[str, str]]:
    wrong: set[tuple[str, str]] = set()
    for layer, package in enumerate(LAYERS):
        for module, path in _modules(package):
            for imported in _imported_modules(path):
                target = imported.split(".")[1]
                if module.endswith(".models"):
                    if target not in TABLES_MAY_IMPORT and target != package:
                        wrong.add((module, imported))
                elif target in LAYERS[layer + 1:] and not imported.endswith(".models"):
                    wrong.add((module, imported))
    return wrong


def test_layers_exist() -> None:
    assert all((ROOT / package / "__init__.py").is_file() for package in LAYERS)


def test_no_import_against_the_arrows() -> None:
    assert _against_the_arrows() == set(), "import against the layer order of decision 0008"


def test_the_check_sees_an_upward_import(tmp_path: Path) -> None:
    """The reader of imports finds both spellings of an upward import (so an empty answer means something)."""
    module = tmp_path / "m.py"
    module.write_text("from exchange.taxii import ingest_queue\nimport exchange.store.ingest\n"
                      "from exchange.orgs.models import Org\nimport json\n")
    assert _imported_modules(module) == {"exchange.taxii.ingest_queue", "exchange.store.ingest", "exchange.orgs.models"}


def test_no_module_is_named_like_a_standard_library_module() -> None:
    """``exchange/sharing/collections.py`` once shadowed ``collections`` for anyone reading an import."""
    import sys

    names = {path.stem for path in ROOT.rglob("*.py")} | {path.name for path in ROOT.rglob("*") if path.is_dir()}
    assert names & sys.stdlib_module_names == set()


def test_stix_has_no_database() -> None:
    """``stix`` is pure STIX: it must stay usable without a database (decision 0008)."""
    for path in (ROOT / "stix").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith(("sqlalchemy", "exchange.core.db")), path
            if isinstance(node, ast.Import):
                assert not any(a.name.startswith("sqlalchemy") for a in node.names), path
