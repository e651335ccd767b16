"""``exchange bench ingest``: JSON bytes in, validated and stored objects out, timed end to end.

The timed part is what a TAXII POST or an import does: orjson parsing, validation, TLP,
versioning, observable extraction, the inserts and the commit. Generating the synthetic input is
excluded (it is not work the hub does).
"""

from __future__ import annotations

import os
import resource
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import orjson
from sqlalchemy import text

from exchange.bench.data import indicators
from exchange.core import db
from exchange.orgs import service as orgs
from exchange.orgs.models import Role
from exchange.store.bulk import batched, ingest_stream


@dataclass(frozen=True, slots=True)
class IngestReport:
    database: str
    objects: int
    added: int
    seconds: float
    peak_rss_mb: float
    worker_peak_rss_mb: float
    db_size_mb: float

    @property
    def rate(self) -> float:
        return self.objects / self.seconds if self.seconds else 0.0


def peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def _db_size_mb(url: str) -> float:
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        return sum(os.path.getsize(p) for p in (path, path + "-wal") if os.path.exists(p)) / 2**20
    engine = db.make_engine(url)
    with engine.connect() as conn:
        size = conn.execute(text(
            "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relkind = 'r'"
        )).scalar_one()
    engine.dispose()
    return float(size) / 2**20


def run(url: str, n: int, *, seed: int = 1, batch_size: int = 5000, shape: str = "mixed",
        progress: Callable[[int], None] | None = None) -> IngestReport:
    db.upgrade(url)
    engine = db.make_engine(url)
    sessions = db.make_sessionmaker(engine)
    with db.transaction(sessions) as session:
        publisher = orgs.create(session, name="Benchmark CSIRT", role=Role.csirt).org
    # The input, as the JSON bundles a client would send; made before the clock starts.
    payloads = [
        orjson.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": batch})
        for batch in batched(indicators(n, seed, shape), batch_size)
    ]
    start = time.perf_counter()
    totals = ingest_stream(sessions, payloads, org_slug=publisher.slug, progress=progress)
    elapsed = time.perf_counter() - start
    engine.dispose()
    return IngestReport(engine.dialect.name, n, totals.added, elapsed, peak_rss_mb(),
                        peak_rss_mb(resource.RUSAGE_CHILDREN), _db_size_mb(url))
