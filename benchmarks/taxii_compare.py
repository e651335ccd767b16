"""Exchange side by side with medallion and OpenTAXII, measured by the client code of
``exchange bench taxii`` (``exchange.bench``), with ratios Exchange / peer.

    python benchmarks/taxii_compare.py [-n 1000000] [--database-url URL] [--json]

This lives here, not in the wheel: it drives third-party servers through the harness in
``benchmarks/taxii_peers/`` and needs a source checkout; the hub's own figures need only
``exchange bench taxii``.

Each peer is loaded its own fastest way, never by POSTing a million objects:
- medallion's memory backend reads a JSON data file at start-up (``filename`` in its backend
  config), so it gets one, objects and manifest included;
- OpenTAXII gets its SQL tables filled directly by ``opentaxii_load.py``, with the rows its own
  ``add_objects`` would write.
Both run from their own virtual environments (``setup.sh``), so their code never enters Exchange's.
"""

from __future__ import annotations

import argparse
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
from rich.table import Table

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
from exchange.bench.taxii_report import FIGURES, Outcome, TaxiiReport, value
from exchange.bench.taxii_run import free_port, post_objects, run_exchange, server_process
from exchange.cli.bench import cell, summary, target_cell, taxii_progress
from exchange.cli.common import console

MEDALLION_COLLECTION = "3e1b5a0c-7d2f-4e8a-9b61-0c5d4f2a8e17"
MEDALLION_ROOT = "bench"
USER, PASSWORD = "bench", "bench-password"
_ADDED_BASE = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def harness_dir() -> Path:
    return Path(__file__).resolve().parent / "taxii_peers"


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



def ratio(ours: Outcome | None, theirs: Outcome | None, key: str) -> float | None:
    """Exchange / peer for one figure; None when either side has no number."""
    a, b = value(ours, key), value(theirs, key)
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool) and b:
        return float(a) / float(b)
    return None


def ratios(ours: Outcome | None, theirs: Outcome | None) -> dict[str, float | None]:
    return {f.key: None if (r := ratio(ours, theirs, f.key)) is None else round(r, 4)
            for f in FIGURES if f.meets is not None}


def _ratio_cell(r: float | None) -> str:
    """Exchange / peer, readable at any scale: 1/3,070 rather than 0.000326, 1,430 rather than 1.43e+03."""
    if r is None:
        return "-"
    if r >= 100:
        return f"{r:,.0f}×"
    if r >= 0.1:
        return f"{r:.3g}×"
    return f"1/{1 / r:,.0f}" if r > 0 else "0"


def _run(what: str, job: Callable[[], TaxiiReport]) -> Outcome:
    """One server's run; a failure becomes the reason in the table instead of ending the benchmark."""
    try:
        return job()
    except Exception as exc:  # any failure of one server is reported; the others still run
        console.print(f"[red]{what} failed:[/red] {exc}")
        return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"


def _print(results: dict[str, Outcome], n: int, *, as_json: bool) -> None:
    def dump(outcome: Outcome) -> dict[str, Any]:
        return outcome.figures() if isinstance(outcome, TaxiiReport) else {"error": outcome}

    main = results["exchange"]
    peer_keys: list[str] = [k for k in ("medallion", "opentaxii") if k in results]
    if as_json:
        out: dict[str, Any] = {"exchange": dump(main), "peers": {}}
        for key in peer_keys:
            same = results.get(f"exchange@{key}", main)
            out["peers"][key] = {"report": dump(results[key]), "exchange_same_size": dump(same),
                                 "ratios_exchange_over_peer": ratios(same, results[key])}
        print(json.dumps(out))
        return
    table = Table(title="TAXII 2.1, Exchange and its peers  (×: Exchange / peer at the peer's size; below 1 is "
                  "better for times and memory, above 1 for rates)")
    table.add_column("figure")
    table.add_column("target")
    table.add_column(f"Exchange ({n:,})", justify="right")
    for key in peer_keys:
        size = value(results[key], "objects")
        sized = f" ({size:,})" if size else ""
        table.add_column(f"{'medallion' if key == 'medallion' else 'OpenTAXII'}{sized}", justify="right")
        if f"exchange@{key}" in results:
            table.add_column(f"Exchange{sized}", justify="right")
        table.add_column("×", justify="right")
    for fig in FIGURES:
        row = [fig.label, fig.goal, target_cell(fig, value(main, fig.key))]
        for key in peer_keys:
            matched = results.get(f"exchange@{key}")
            row.append(cell(value(results[key], fig.key)))
            if matched is not None:
                row.append(cell(value(matched, fig.key)))
            compared = fig.meets is not None  # sizes and load times are context, not figures to compare
            row.append(_ratio_cell(ratio(matched or main, results[key], fig.key)) if compared else "")
        table.add_row(*row)
    console.print(table)
    for key, outcome in results.items():
        if isinstance(outcome, str):
            console.print(f"[red]{key}:[/red] {outcome}")
            continue
        console.print(f"[bold]{key}[/bold]: {summary(outcome)}")
        for note in outcome.figures()["notes"]:
            console.print(f"  - {note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("-n", type=int, default=1_000_000, help="indicators in Exchange's collection")
    parser.add_argument("--database-url", help="database for Exchange (PostgreSQL: a throw-away schema); "
                        "default a temporary SQLite file")
    parser.add_argument("--medallion-n", type=int, default=2_000,
                        help="objects for medallion: its memory backend is quadratic per GET, keep it small")
    parser.add_argument("--opentaxii-n", type=int, default=50_000,
                        help="objects for OpenTAXII: each of its pages scans the whole collection")
    parser.add_argument("--no-matched", dest="matched", action="store_false",
                        help="do not run Exchange again at each peer's size")
    parser.add_argument("--samples", type=int, default=50, help="latency samples per figure")
    parser.add_argument("--envelopes", type=int, default=20, help="1,000-object envelopes to POST")
    parser.add_argument("--seed", type=int, default=1, help="seed of the data generator")
    parser.add_argument("--json", dest="as_json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    budget = Budget(samples=args.samples, envelopes=args.envelopes)
    results: dict[str, Outcome] = {}
    with taxii_progress() as phases:

        def exchange_at(size: int) -> Outcome:
            return _run(f"Exchange ({size:,})", lambda: run_exchange(
                size, args.database_url, seed=args.seed, budget=budget, phases=phases))

        results["exchange"] = exchange_at(args.n)
        results["medallion"] = _run("medallion", lambda: run_medallion(
            args.medallion_n, seed=args.seed, budget=budget, phases=phases))
        if args.matched and args.medallion_n != args.n:
            results["exchange@medallion"] = exchange_at(args.medallion_n)
        results["opentaxii"] = _run("OpenTAXII", lambda: run_opentaxii(
            args.opentaxii_n, seed=args.seed, budget=budget, phases=phases))
        if args.matched and args.opentaxii_n != args.n:
            results["exchange@opentaxii"] = exchange_at(args.opentaxii_n)
    _print(results, args.n, as_json=args.as_json)


if __name__ == "__main__":
    main()
