"""Ingest a stream of objects in batches, one transaction each: the wrapper CLI import, demo
loading, benchmarks and (later) connectors share. Like a job wrapper, it owns the transactions.
"""

from __future__ import annotations

import multiprocessing
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from itertools import chain, islice
from multiprocessing.context import BaseContext
from typing import Any

import orjson
from sqlalchemy.orm import Session, sessionmaker

from exchange.core.db import transaction
from exchange.core.processes import helper_started
from exchange.orgs import audit
from exchange.orgs import service as orgs
from exchange.stix.prepare import ObjectResult, Prepared, prepare, prepare_packed, unpack
from exchange.store import maintenance, reads
from exchange.store.ingest import IngestResult, store_parts

PREPARE_WORKERS = 2  # helper processes; with the writer, enough to keep two cores busy (decision 0001)
CHUNK = 1000  # objects per helper task: small enough that both helpers share the last batch
_BATCHES_AHEAD = PREPARE_WORKERS + 1  # batches sent to the helpers before the first is written
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

    When there is more than one batch, helper processes prepare them (parse, validate, extract:
    pure Python) while this process reads the input and writes, so a long import uses every core.
    Threads would not do: SQLite hands the GIL back on every row, and each hand-back waits for the
    preparing thread (slower than no overlap at all: decision 0001, "Bulk loads"). A batch given
    as a list is cut into ``CHUNK`` objects per helper task and sent as JSON bytes (``_tasks``), so
    both helpers work on every batch and the last one is not prepared by one helper alone while
    the other idles; its parts are stored in one transaction (``store_parts``).
    """
    totals = Totals()
    with transaction(sessions) as session:  # fail fast on a wrong collection or org, before any work
        reads.get_collection(session, collection_id)
        if org_slug is not None:
            orgs.get_by_slug(session, org_slug)

    def write(parts: list[Prepared]) -> None:
        with transaction(sessions) as session:
            collection = reads.get_collection(session, collection_id)
            org = orgs.get_by_slug(session, org_slug) if org_slug is not None else None
            results = store_parts(session, parts, collection=collection, org=org)
            result = IngestResult([r for part in results for r in part.results])
            audit.record_cli(session, "cli.ingest", collection.id,
                             result.summary + (f", as {org_slug}" if org_slug else ""))
            totals.add(result)
        if progress is not None:
            progress(sum(part.size for part in parts))

    pending = iter(batches)
    first = next(pending, None)
    if first is None:
        return totals
    second = next(pending, None)
    if second is None:  # one batch: no helper processes to start
        write([prepare(first)])
        return totals
    with ProcessPoolExecutor(max_workers=PREPARE_WORKERS, mp_context=_context(), initializer=helper_started) as pool:
        queue: deque[list[Future[bytes]]] = deque()
        ahead = chain([first, second], pending)
        for batch in islice(ahead, _BATCHES_AHEAD):
            queue.append([pool.submit(prepare_packed, task, checked=checked) for task, checked in _tasks(batch)])
        while queue:
            futures = queue.popleft()
            parts = [unpack(future.result()) for future in futures]
            following = next(ahead, None)
            if following is not None:
                queue.append([pool.submit(prepare_packed, task, checked=checked)
                              for task, checked in _tasks(following)])
            write(parts)
    with transaction(sessions) as session:  # a large load leaves the planner's statistics stale
        maintenance.analyze(session)
    return totals


def _tasks(batch: bytes | list[Any]) -> Iterator[tuple[bytes | list[Any], bool]]:
    """(payload, whether it is past the JSON limits) of each helper task of a batch.

    A list is sent in chunks, each as orjson bytes: a tenth of pickle's cost to send, and the
    helper's orjson parse costs less than unpickling the dicts. A list was never held to the JSON
    limits (``jsonlimits``: they guard request bodies), so its chunks are marked checked. Objects
    orjson cannot write (an integer beyond 64 bits read by ijson) go as they are, pickled.
    """
    if isinstance(batch, bytes):
        yield batch, False
        return
    for start in range(0, len(batch), CHUNK):
        chunk = batch[start:start + CHUNK]
        try:
            yield orjson.dumps(chunk), True
        except orjson.JSONEncodeError:
            yield chunk, True
