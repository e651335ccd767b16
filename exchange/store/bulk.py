"""Ingest a stream of objects in batches, one transaction each: the wrapper CLI import, demo
loading, benchmarks and (later) connectors share. Like a job wrapper, it owns the transactions.
"""

from __future__ import annotations

import multiprocessing
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from itertools import islice
from multiprocessing.context import BaseContext
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from exchange.core.db import transaction
from exchange.orgs import audit
from exchange.orgs import service as orgs
from exchange.stix.prepare import ObjectResult, Prepared, prepare, prepare_packed, unpack
from exchange.store import maintenance, reads
from exchange.store.ingest import IngestResult, store

PREPARE_WORKERS = 2  # helper processes; with the writer, enough to keep two cores busy (decision 0001)
MAX_LISTED_REJECTIONS = 1000  # a feed of a million bad objects must not keep a million verdicts


def _context() -> BaseContext:
    """Fork where the platform has it: workers start at once and share the loaded modules.

    Safe here because a worker only runs ``prepare`` on the bytes it is sent, and forked workers
    leave through ``os._exit``, so they never touch or close the parent's database connections.
    """
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    return multiprocessing.get_context(method)


@dataclass(slots=True)
class Totals:
    added: int = 0
    duplicates: int = 0
    rejected: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    # (position in the whole stream, verdict) of the first rejections, so a caller can say which object
    rejections: list[tuple[int, ObjectResult]] = field(default_factory=list)

    @property
    def processed(self) -> int:
        return self.added + self.duplicates + self.rejected

    def add(self, result: IngestResult) -> None:
        offset = self.processed  # batches are written in stream order
        room = MAX_LISTED_REJECTIONS - len(self.rejections)
        self.rejections.extend(islice(((offset + i, r) for i, r in enumerate(result.results)
                                       if r.status == "rejected"), max(room, 0)))
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
    """Ingest batches (lists of objects or bundle JSON), one transaction each, each audited in its
    own transaction as the command line's ("cli") work.

    From the second batch on, helper processes prepare the next batches (parse, validate, extract:
    pure Python) while this process writes, so a long import uses every core. Threads would not do:
    SQLite hands the GIL back on every row, and each hand-back waits for the preparing thread
    (slower than no overlap at all: decision 0001, "Bulk loads").
    """
    totals = Totals()
    with transaction(sessions) as session:  # fail fast on a wrong collection or org, before any work
        reads.get_collection(session, collection_id)
        if org_slug is not None:
            orgs.get_by_slug(session, org_slug)

    def write(prepared: Prepared) -> None:
        with transaction(sessions) as session:
            collection = reads.get_collection(session, collection_id)
            org = orgs.get_by_slug(session, org_slug) if org_slug is not None else None
            result = store(session, prepared, collection=collection, org=org)
            audit.record_cli(session, "cli.ingest", collection.id,
                             result.summary + (f", as {org_slug}" if org_slug else ""))
            totals.add(result)
        if progress is not None:
            progress(prepared.size)

    pending = iter(batches)
    first = next(pending, None)
    if first is None:
        return totals
    second = next(pending, None)
    if second is None:  # one batch: no helper processes to start
        write(prepare(first))
        return totals
    with ProcessPoolExecutor(max_workers=PREPARE_WORKERS, mp_context=_context()) as pool:
        queue = deque([pool.submit(prepare_packed, second)])
        queue.extend(pool.submit(prepare_packed, b) for b in islice(pending, PREPARE_WORKERS - 1))
        write(prepare(first))
        while queue:
            prepared = unpack(queue.popleft().result())
            following = next(pending, None)
            if following is not None:
                queue.append(pool.submit(prepare_packed, following))
            write(prepared)
    with transaction(sessions) as session:  # a large load leaves the planner's statistics stale
        maintenance.analyze(session)
    return totals
