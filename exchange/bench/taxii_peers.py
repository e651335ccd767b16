"""The peers of ``exchange bench taxii``: medallion and OpenTAXII, run through the harness in
``benchmarks/taxii_peers/`` and measured by the same client code as Exchange.

Each peer is loaded its own fastest way, never by POSTing a million objects:
- medallion's memory backend reads a JSON data file at start-up (``filename`` in its backend
  config), so it gets one, objects and manifest included;
- OpenTAXII gets its SQL tables filled directly by ``opentaxii_load.py``, with the rows its own
  ``add_objects`` would write.
Both run from their own virtual environments (``setup.sh``), so their code never enters Exchange's.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import orjson

from exchange.bench.data import indicators
from exchange.bench.taxii import (
    TAXII_JSON,
    Budget,
    Phases,
    Target,
    basic_auth,
    bearer_auth,
    measure,
    no_progress,
)
from exchange.bench.taxii_report import TaxiiReport
from exchange.bench.taxii_run import free_port, post_objects, server_process

MEDALLION_COLLECTION = "3e1b5a0c-7d2f-4e8a-9b61-0c5d4f2a8e17"
MEDALLION_ROOT = "bench"
USER, PASSWORD = "bench", "bench-password"
_ADDED_BASE = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


class HarnessMissing(RuntimeError):
    """benchmarks/taxii_peers/ isn't there (the peers run from a source checkout only)."""


def harness_dir() -> Path:
    configured = os.environ.get("EXCHANGE_BENCH_PEERS_DIR")
    path = Path(configured) if configured else Path(__file__).resolve().parents[2] / "benchmarks" / "taxii_peers"
    if not (path / "setup.sh").is_file():
        raise HarnessMissing(f"no peer harness at {path} (set EXCHANGE_BENCH_PEERS_DIR to benchmarks/taxii_peers)")
    return path


def peer_python(peer: str) -> str:
    """The interpreter of the peer's own venv, created on first use by setup.sh (needs PyPI once)."""
    out = subprocess.run(["bash", str(harness_dir() / "setup.sh"), peer],  # noqa: S603, S607 - our own script
                         check=True, capture_output=True, text=True)
    return str(Path(out.stdout.strip().splitlines()[-1]) / "bin" / "python")


def _date_added(i: int) -> dt.datetime:
    # A millisecond apart and never on a whole second (see opentaxii_load.py for why).
    return _ADDED_BASE + dt.timedelta(microseconds=i * 1000 + 1)


def _stamp(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def write_medallion_files(directory: Path, n: int, seed: int, base_url: str) -> Path:
    """medallion's memory-backend data file (discovery, API root, one collection with objects and
    manifest) and its config; returns the config path."""
    objects = list(indicators(n, seed))
    manifest = [{"id": o["id"], "date_added": _stamp(_date_added(i)), "version": o["modified"],
                 "media_type": "application/stix+json;version=2.1"} for i, o in enumerate(objects)]
    root_url = f"{base_url}/{MEDALLION_ROOT}/"
    data = {
        "/discovery": {"title": "medallion (benchmark)", "default": root_url, "api_roots": [root_url]},
        MEDALLION_ROOT: {
            "information": {"title": "bench", "versions": [TAXII_JSON], "max_content_length": 100 * 2**20},
            "status": [],
            "collections": [{"id": MEDALLION_COLLECTION, "title": "bench", "can_read": True, "can_write": True,
                             "media_types": ["application/stix+json;version=2.1"],
                             "objects": objects, "manifest": manifest}],
        },
    }
    (directory / "data.json").write_bytes(orjson.dumps(data))
    config = {
        "backend": {"module": "medallion.backends.memory_backend", "module_class": "MemoryBackend",
                    "filename": str(directory / "data.json"),
                    # The default 30 s would expire a listing's cursor while medallion is still busy.
                    "session_timeout": 3600},
        "users": {USER: PASSWORD},
        "taxii": {"max_page_size": 1000},
    }
    path = directory / "medallion.json"
    path.write_text(json.dumps(config))
    return path


def run_medallion(n: int, *, seed: int = 1, budget: Budget = Budget(), phases: Phases = no_progress,
                  python: str | None = None) -> TaxiiReport:
    """medallion 3 with its memory backend, started on a pre-built data file of n indicators."""
    python = python or peer_python("medallion")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="exchange-bench-medallion-") as tmp:
        advance = phases("medallion: load", n)
        start = time.perf_counter()
        config = write_medallion_files(Path(tmp), n, seed, base)
        argv = [python, "-m", "medallion.scripts.run", "--host", "127.0.0.1", "--port", str(port), str(config)]
        with server_process(argv, ready=r"Running on http", cwd=tmp) as proc:
            load_seconds = time.perf_counter() - start
            advance(n)
            target = Target("medallion", f"{base}/taxii2/", f"{base}/{MEDALLION_ROOT}/", MEDALLION_COLLECTION,
                            basic_auth(USER, PASSWORD), n, proc.pid)
            return measure(target, post_objects(budget.envelopes * budget.envelope_size, seed), budget=budget,
                           phases=phases, load_seconds=load_seconds,
                           notes=["memory backend, started on a data file; Flask's threaded server"])


def _opentaxii_env(directory: Path) -> dict[str, str]:
    return {
        **os.environ,
        "OPENTAXII_CONFIG": str(harness_dir() / "opentaxii.yml"),
        "OPENTAXII_AUTH_API__PARAMETERS__DB_CONNECTION": f"sqlite:///{directory / 'auth.db'}",
        "OPENTAXII_TAXII2__PERSISTENCE_API__PARAMETERS__DB_CONNECTION": f"sqlite:///{directory / 'data.db'}",
    }


def _load_opentaxii(python: str, directory: Path, n: int, seed: int, advance: Callable[[int], None]) -> dict[str, Any]:
    objects = directory / "objects.jsonl"
    with open(objects, "wb") as out:
        for obj in indicators(n, seed):
            out.write(orjson.dumps(obj) + b"\n")
    argv = [python, str(harness_dir() / "opentaxii_load.py"), "--objects", str(objects),
            "--username", USER, "--password", PASSWORD]
    done = 0
    result: dict[str, Any] = {}
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,  # noqa: S603
                          env=_opentaxii_env(directory)) as proc:
        stdout, stderr = proc.stdout, proc.stderr
        if stdout is None or stderr is None:  # both are pipes; this tells the type checker
            raise RuntimeError("no pipes")
        for line in stdout:
            if line.startswith("progress "):
                loaded = int(line.split()[1])
                advance(loaded - done)
                done = loaded
            elif line.startswith("{"):
                result = json.loads(line)
        error = stderr.read()
    if proc.returncode != 0 or not result:
        raise RuntimeError(f"opentaxii_load.py failed ({proc.returncode}):\n{error[-2000:]}")
    advance(n - done)
    objects.unlink()
    return result


def _opentaxii_token(base: str) -> str:
    """OpenTAXII checks a Basic password with a slow salted hash on every request; its clients are
    meant to trade it for a JWT once, so the benchmark does too."""
    response = httpx.post(f"{base}/management/auth", json={"username": USER, "password": PASSWORD}, timeout=60)
    response.raise_for_status()
    return str(response.json()["token"])


def run_opentaxii(n: int, *, seed: int = 1, budget: Budget = Budget(), phases: Phases = no_progress,
                  python: str | None = None) -> TaxiiReport:
    """OpenTAXII 0.9.3, TAXII 2.1 only, SQL backend on SQLite, tables pre-filled with n indicators."""
    python = python or peer_python("opentaxii")
    with tempfile.TemporaryDirectory(prefix="exchange-bench-opentaxii-") as tmp:
        directory = Path(tmp)
        start = time.perf_counter()
        ids = _load_opentaxii(python, directory, n, seed, phases("OpenTAXII: load", n))
        load_seconds = time.perf_counter() - start
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        argv = [python, str(harness_dir() / "opentaxii_serve.py"), "--port", str(port)]
        with server_process(argv, ready=r"OpenTAXII serving on", env=_opentaxii_env(directory)) as proc:
            target = Target("OpenTAXII", f"{base}/taxii2/", f"{base}/taxii2/{ids['api_root_id']}/",
                            ids["collection_id"], bearer_auth(_opentaxii_token(base)), n, proc.pid)
            return measure(target, post_objects(budget.envelopes * budget.envelope_size, seed), budget=budget,
                           phases=phases, load_seconds=load_seconds,
                           notes=["SQL backend on SQLite, tables filled directly; Werkzeug threaded server; "
                                  "JWT bearer auth"])

