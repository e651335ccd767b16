"""The package works as a user or the Docker image installs it: without the dev extra.

Two checks. A static one, fast and exact: every module under ``exchange/`` imports only the standard
library, ``exchange`` itself, or a distribution that a plain ``pip install exchange[postgres]``
brings (the runtime dependency closure, read from the installed metadata). And a real one: a fresh
virtual environment, ``pip install <repo>`` (not editable, no extras), then ``exchange db upgrade``,
``exchange serve`` answering /healthz and ``exchange worker --help`` on a temporary SQLite database.

The real one downloads the dependencies once into a wheelhouse kept under the user's cache (keyed by
the dependency list), so later runs install offline in seconds instead of a minute against PyPI.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.metadata as md
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from exchange.bench.taxii_run import free_port
from tests.conftest import once

pytestmark = once("the fresh install runs on a SQLite file of its own, or on none")

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
RUNTIME_EXTRAS = ("postgres", "warninglists")  # what the Dockerfile installs on top of the plain package


def _closure(requirements: list[str], extras: tuple[str, ...] = ()) -> set[str]:
    """Distribution names a pip install of these requirements brings, walked through installed metadata."""
    seen: set[str] = set()
    todo = [(Requirement(r), extras) for r in requirements]
    while todo:
        req, wanted = todo.pop()
        if req.marker is not None and not any(req.marker.evaluate({"extra": e}) for e in (*wanted, "")):
            continue
        name = canonicalize_name(req.name)
        key = name + "[" + ",".join(sorted(req.extras)) + "]"
        if key in seen or name == "exchange":
            continue
        seen.add(key)
        try:
            todo += [(Requirement(r), tuple(req.extras)) for r in md.requires(name) or []]
        except md.PackageNotFoundError:  # a marker-less optional dependency that is not installed here
            continue
    return {k.partition("[")[0] for k in seen}


def _runtime_distributions() -> set[str]:
    extras = PROJECT["project"]["optional-dependencies"]
    return _closure([*PROJECT["project"]["dependencies"], *(r for e in RUNTIME_EXTRAS for r in extras[e])])


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name.partition(".")[0]) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            yield node.lineno, node.module.partition(".")[0]


def test_the_runtime_imports_no_dev_only_package() -> None:
    runtime = _runtime_distributions()
    providers = md.packages_distributions()  # top-level import name -> distributions providing it
    wrong = []
    ours = ("exchange", "connectors")  # the two packages of the wheel
    for path in sorted(p for package in ours for p in (ROOT / package).rglob("*.py")):
        for line, top in _imports(path):
            if top in sys.stdlib_module_names or top in ours:
                continue
            dists = {canonicalize_name(d) for d in providers.get(top, [])}
            if not dists & runtime:
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {top} ({', '.join(sorted(dists)) or '?'})")
    assert wrong == [], "the runtime imports packages a plain install lacks:\n" + "\n".join(wrong)


def _wheelhouse() -> Path:
    """Wheels of every runtime dependency and of the build backend, fetched from the index once per
    dependency list and Python version; written to a temporary folder and renamed, so two runs at
    the same time never see half a wheelhouse."""
    key = hashlib.sha256(repr((PROJECT["project"]["dependencies"], PROJECT["build-system"]["requires"],
                               sys.version_info[:2])).encode()).hexdigest()[:16]
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "exchange-tests"
    house = cache / f"wheelhouse-{key}"
    if house.is_dir():
        return house
    cache.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix="wheelhouse-", dir=cache))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--wheel-dir", str(partial),
                    *PROJECT["build-system"]["requires"], *PROJECT["project"]["dependencies"]],
                   check=True, timeout=900)
    try:
        partial.rename(house)
    except OSError:  # another run finished first; its wheelhouse is as good
        shutil.rmtree(partial, ignore_errors=True)
    return house


def _healthz(url: str, proc: subprocess.Popen[bytes], seconds: float = 60) -> int:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc.poll() is None, "exchange serve exited"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own loopback URL
                return int(response.status)
        except OSError:  # not listening yet
            time.sleep(0.1)
    raise AssertionError(f"{url} did not answer within {seconds:.0f}s")


@pytest.mark.install
def test_a_plain_install_migrates_serves_and_has_a_worker(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    # Without its own pip (ensurepip takes seconds); this pip installs into it through --python.
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    house = _wheelhouse()
    # No PYTHONPATH: the installed package must be the one that runs, not this checkout.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "EXCHANGE_", "VIRTUAL_ENV"))}
    env["EXCHANGE_DATABASE_URL"] = f"sqlite:///{tmp_path / 'hub.db'}"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--quiet",
                    "--no-compile", "--no-index", "--find-links", str(house), str(ROOT)],
                   check=True, env=env, timeout=600)
    exchange = str(venv / "bin" / "exchange")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([exchange, *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)

    upgraded = run("db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    worker = run("worker", "--help")
    assert worker.returncode == 0, worker.stderr
    assert "scheduled jobs" in worker.stdout
    port = free_port()
    with open(tmp_path / "serve.log", "wb") as log:
        proc = subprocess.Popen([exchange, "serve", "--port", str(port)], cwd=tmp_path, env=env,
                                stdout=log, stderr=subprocess.STDOUT)
    try:
        assert _healthz(f"http://127.0.0.1:{port}/healthz", proc) == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
