"""Ingest a stream of objects in batches, one transaction each: the wrapper CLI import, demo
loading, benchmarks and (later) connectors share. Like a job wrapper, it owns the transactions.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from exchange.db import transaction
from exchange.orgs import service as orgs
from exchange.stix import service
from exchange.stix.ingest import IngestResult, store
from exchange.stix.prepare import Prepared, prepare


@dataclass(slots=True)
class Totals:
    added: int = 0
    duplicates: int = 0
    rejected: int = 0
    reasons: Counter[str] = field(default_factory=Counter)

    @property
    def processed(self) -> int:
        return self.added + self.duplicates + self.rejected

    def add(self, result: IngestResult) -> None:
        self.added += result.added
        self.duplicates += result.duplicates
        self.rejected += result.rejected
        self.reasons.update(r.message for r in result.results if r.status == "rejected")


def batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


def ingest_stream(
    sessions: sessionmaker[Session],
    batches: Iterable[bytes | list[Any]],
    *,
    collection_id: str | None = None,
    org_slug: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> Totals:
    """Ingest batches (lists of objects or bundle JSON), one transaction each; while one batch is
    written, the next is prepared.

    Preparing is pure Python and writing is mostly database work outside the GIL (SQLite) or on
    the server (PostgreSQL), so the two overlap on separate cores.
    """
    totals = Totals()
    with transaction(sessions) as session:  # fail fast on a wrong collection or org, before any work
        service.get_collection(session, collection_id)
        if org_slug is not None:
            orgs.get_by_slug(session, org_slug)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-prepare") as pool:
        pending = iter(batches)
        upcoming: Future[Prepared] | None = _submit(pool, pending)
        while upcoming is not None:
            prepared = upcoming.result()
            upcoming = _submit(pool, pending)
            with transaction(sessions) as session:
                collection = service.get_collection(session, collection_id)
                org = orgs.get_by_slug(session, org_slug) if org_slug is not None else None
                totals.add(store(session, prepared, collection=collection, org=org))
            if progress is not None:
                progress(prepared.size)
    return totals


def _submit(pool: ThreadPoolExecutor, batches: Iterator[bytes | list[Any]]) -> Future[Prepared] | None:
    batch = next(batches, None)
    return pool.submit(prepare, batch) if batch is not None else None
