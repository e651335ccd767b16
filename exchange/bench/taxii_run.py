"""Server processes for ``exchange bench taxii``: start one on a free port, wait until it listens,
stop it; and the Exchange side of the benchmark (``run_exchange``).

Each server runs as its own process so its peak RSS (VmHWM) is its own, not the benchmark's, and so
the peers can run from their own virtual environments.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import orjson

from exchange.bench.data import indicators
from exchange.bench.taxii import Budget, Phases, Target, basic_auth, measure, no_progress
from exchange.bench.taxii_report import TaxiiReport
from exchange.core import db
from exchange.orgs import service as orgs
from exchange.orgs.models import Role
from exchange.store.bulk import batched, ingest_stream
from exchange.store.reads import DEFAULT_COLLECTION_ID

LOAD_BATCH = 5000
POST_SEED_OFFSET = 1_000_003  # POSTed objects come from another seed: new ids, never duplicates


class ServerFailed(RuntimeError):
    """A server process exited or never said it was listening."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


@contextmanager
def server_process(argv: Sequence[str], *, ready: str, env: Mapping[str, str] | None = None,
                   cwd: str | Path | None = None, timeout: float = 900.0) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``argv`` until the block ends; yield once its output has a line matching ``ready``.

    Output goes to a file, not a pipe, so a chatty server (access logs) can never block on a full pipe.
    """
    pattern = re.compile(ready)
    with tempfile.TemporaryDirectory(prefix="exchange-bench-server-") as tmp:
        log_path = Path(tmp) / "server.log"
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(list(argv), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,  # noqa: S603 - our own argv
                                    env=dict(env) if env is not None else None, cwd=cwd)
        try:
            deadline = time.monotonic() + timeout
            while not pattern.search(log_path.read_text(errors="replace")):
                if proc.poll() is not None:
                    raise ServerFailed(f"{argv[0]} exited with {proc.returncode}:\n{_tail(log_path)}")
                if time.monotonic() > deadline:
                    raise ServerFailed(f"{argv[0]} not ready after {timeout:.0f}s:\n{_tail(log_path)}")
                time.sleep(0.05)
            yield proc
        finally:
            _stop(proc)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        # SIGTERM, not SIGINT: a process started from a non-interactive shell's background job
        # inherits SIGINT as ignored, and Python then never turns it into KeyboardInterrupt.
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def post_objects(n: int, seed: int, shape: str = "mixed") -> Iterator[dict[str, object]]:
    """The objects the POST phase sends: generated like the loaded ones, but all new."""
    return indicators(n, seed + POST_SEED_OFFSET, shape)


def _bundles(n: int, seed: int, shape: str) -> Iterator[bytes]:
    for batch in batched(indicators(n, seed, shape), LOAD_BATCH):
        yield orjson.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": batch})


def run_exchange(n: int, database_url: str | None = None, *, seed: int = 1, budget: Budget = Budget(),
                 phases: Phases = no_progress, shape: str = "mixed") -> TaxiiReport:
    """Load n indicators into a scratch database the fast way (bulk ingest, not TAXII), then serve it
    with ``exchange serve`` and measure it as any TAXII client would."""
    with db.scratch_database(database_url, "bench") as url:
        db.upgrade(url)
        engine = db.make_engine(url)
        sessions = db.make_sessionmaker(engine)
        with db.transaction(sessions) as session:
            # a member, not an admin: its reads go through the full access rule, as most clients' do
            issued = orgs.create(session, name="TAXII benchmark", role=Role.csirt)
            slug, key = issued.org.slug, issued.api_key
        start = time.perf_counter()
        # ingest_stream ends with ANALYZE on PostgreSQL, so the pages are measured in the steady state
        ingest_stream(sessions, _bundles(n, seed, shape), org_slug=slug, progress=phases("Exchange: load", n))
        load_seconds = time.perf_counter() - start
        engine.dispose()

        port = free_port()
        # no rate limits: the benchmark is a deliberately fast client
        env = {**os.environ, "EXCHANGE_DATABASE_URL": url, "EXCHANGE_HOST": "127.0.0.1",
               "EXCHANGE_PORT": str(port), "EXCHANGE_RATE_LIMIT_PER_IP": "", "EXCHANGE_RATE_LIMIT_PER_KEY": ""}
        argv = [sys.executable, "-c", "from exchange.cli import main; main()", "serve", "--port", str(port)]
        with server_process(argv, ready=r"Uvicorn running on", env=env) as proc:
            base = f"http://127.0.0.1:{port}"
            target = Target("Exchange", f"{base}/taxii2/", f"{base}/taxii2/default/", DEFAULT_COLLECTION_ID,
                            basic_auth(slug, key), n, proc.pid)
            dialect = "SQLite" if url.startswith("sqlite") else "PostgreSQL"
            return measure(target, post_objects(budget.envelopes * budget.envelope_size, seed, shape), budget=budget,
                           phases=phases, load_seconds=load_seconds,
                           notes=[f"{dialect}; loaded with bulk ingest (exchange import's path); "
                                  "served by `exchange serve`, one uvicorn process"])
