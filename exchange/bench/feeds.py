"""``exchange bench feeds``: a CSV blocklist and a TAXII pull from a second hub, each run by
``exchange feed run`` in its own process, side by side with ``exchange import`` of the same objects.

Each measured command is a child process waited for with ``os.wait4``, so its peak RSS is its own
(``exchange import``'s prepare helpers are processes of their own and not counted). The CSV list is
served from a temporary folder by a thread of this process; the second hub is a real
``exchange serve`` on its own scratch database, loaded the fast way (bulk ingest) first.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import func, select

from exchange.bench.data import indicators
from exchange.bench.taxii_run import free_port, server_process
from exchange.core import db
from exchange.orgs import service as orgs
from exchange.orgs.models import Role
from exchange.store.bulk import batched, ingest_stream
from exchange.store.models import StixObject
from exchange.store.reads import DEFAULT_COLLECTION_ID

_EXCHANGE = [sys.executable, "-c", "from exchange.cli import main; main()"]
_V4_BASE = 0x0B00_0000  # 11.0.0.0: public, so every row is a valid, distinct address


@dataclass(frozen=True, slots=True)
class Measured:
    what: str
    objects: int
    seconds: float
    peak_rss_mb: float

    @property
    def rate(self) -> float:
        return self.objects / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"what": self.what, "objects": self.objects, "seconds": round(self.seconds, 2),
                "objects_per_second": round(self.rate), "peak_rss_mb": round(self.peak_rss_mb, 1)}


def _env(url: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    return {**os.environ, "EXCHANGE_DATABASE_URL": url, **(extra or {})}


def _cli(url: str, *args: str, extra: Mapping[str, str] | None = None) -> str:
    done = subprocess.run([*_EXCHANGE, *args], env=_env(url, extra), capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise RuntimeError(f"exchange {' '.join(args)} failed: {done.stderr.strip()[-500:]}")
    return done.stdout


def _timed(what: str, url: str, *args: str, extra: Mapping[str, str] | None = None) -> tuple[Measured, str]:
    """Run ``exchange ARGS`` as a child; its wall time, its own peak RSS and its output."""
    start = time.perf_counter()
    proc = subprocess.Popen([*_EXCHANGE, *args], env=_env(url, extra), stdout=subprocess.PIPE,  # noqa: S603
                            stderr=subprocess.DEVNULL)
    out = proc.stdout.read().decode() if proc.stdout is not None else ""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 3):  # import: 3 means some objects were rejected
        raise RuntimeError(f"exchange {' '.join(args)} exited {proc.returncode}")
    return Measured(what, 0, elapsed, usage.ru_maxrss / 1024), out


def _feed_run(what: str, url: str, name: str, extra: Mapping[str, str] | None = None) -> Measured:
    measured, out = _timed(what, url, "feed", "run", name, "--json", extra=extra)
    counts = orjson.loads(out.strip().splitlines()[-1])
    if counts.get("error"):
        raise RuntimeError(f"feed {name}: {counts['error']}")
    return Measured(what, int(counts["added"]), measured.seconds, measured.peak_rss_mb)


def _import_of(source_url: str, objects: int, work: Path, database_url: str | None) -> Measured:
    """``exchange import`` of everything ``source_url`` holds (exported first, untimed) into a fresh database."""
    bundle = work / "objects.json"
    _cli(source_url, "export", "--all", "-o", str(bundle))
    with db.scratch_database(database_url, "import") as url:
        db.upgrade(url)
        measured, _ = _timed("exchange import (same objects, from a file)", url, "import", str(bundle))
        engine = db.make_engine(url)
        with engine.connect() as conn:
            stored = conn.execute(select(func.count()).select_from(StixObject)).scalar_one()
        engine.dispose()
        if stored != objects:  # the two ways must store the same objects, or the figures compare nothing
            raise RuntimeError(f"the feed stored {objects} objects, the import {stored}")
        return Measured(measured.what, stored, measured.seconds, measured.peak_rss_mb)


@contextmanager
def _serving(folder: Path) -> Iterator[str]:
    handler = functools.partial(_Quiet, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the standard library's name
        pass


def csv_feed(rows: int, database_url: str | None = None) -> list[Measured]:
    """A text list of ``rows`` distinct IPv4 addresses through the CSV connector, then the import."""
    with tempfile.TemporaryDirectory(prefix="exchange-bench-feed-") as tmp, \
            db.scratch_database(database_url, "feed") as url:
        work = Path(tmp)
        with open(work / "ips.txt", "w") as out:
            for i in range(rows):
                n = _V4_BASE + i
                out.write(f"{n >> 24}.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}\n")
        db.upgrade(url)
        with _serving(work) as base:
            _cli(url, "feed", "add", "--name", "bench", "--kind", "csv", "--url", f"{base}/ips.txt",
                 "--option", "type=ipv4", "--option", "snapshot=false")
            feed = _feed_run(f"CSV feed, {rows:,} rows", url, "bench")
        return [feed, _import_of(url, feed.objects, work, database_url)]


def taxii_feed(n: int, database_url: str | None = None, *, seed: int = 1) -> list[Measured]:
    """``n`` indicators pulled over TAXII 2.1 (pages of 1,000) from a second hub, then the import."""
    with tempfile.TemporaryDirectory(prefix="exchange-bench-feed-") as tmp, \
            db.scratch_database(database_url, "peer") as peer, db.scratch_database(database_url, "feed") as url:
        db.upgrade(peer)
        engine = db.make_engine(peer)
        sessions = db.make_sessionmaker(engine)
        with db.transaction(sessions) as session:
            issued = orgs.create(session, name="Peer CSIRT", role=Role.csirt)
        bundles = (orjson.dumps({"type": "bundle", "objects": b}) for b in batched(indicators(n, seed), 5000))
        ingest_stream(sessions, bundles, org_slug=issued.org.slug)
        engine.dispose()
        port = free_port()
        env = {**os.environ, "EXCHANGE_DATABASE_URL": peer, "EXCHANGE_RATE_LIMIT_PER_IP": "",
               "EXCHANGE_RATE_LIMIT_PER_KEY": "", "EXCHANGE_MAX_PAGE_SIZE": "1000"}
        db.upgrade(url)
        with server_process([*_EXCHANGE, "serve", "--port", str(port)], ready=r"Uvicorn running on", env=env):
            collection = f"http://127.0.0.1:{port}/taxii2/default/collections/{DEFAULT_COLLECTION_ID}/"
            _cli(url, "feed", "add", "--name", "peer", "--kind", "taxii", "--url", collection, "--username",
                 issued.org.slug, "--password-env", "BENCH_PEER_KEY", "--option", "page_size=1000")
            feed = _feed_run(f"TAXII pull from a second hub, {n:,} objects", url, "peer",
                             extra={"BENCH_PEER_KEY": issued.api_key})
        # exported from this hub: what the feed stored (the peer's objects and the source's identity)
        return [feed, _import_of(url, feed.objects, Path(tmp), database_url)]
