"""Ingest a stream of objects in batches, one transaction each: the wrapper CLI import, demo
loading, benchmarks and (later) connectors share. Like a job wrapper, it owns the transactions.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from exchange.db import transaction
from exchange.orgs import service as orgs
from exchange.stix import service
from exchange.stix.ingest import IngestResult, store
from exchange.stix.prepare import prepare


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
    """Ingest batches (lists of objects or bundle JSON), one transaction each."""
    totals = Totals()
    with transaction(sessions) as session:  # fail fast on a wrong collection or org, before any work
        service.get_collection(session, collection_id)
        if org_slug is not None:
            orgs.get_by_slug(session, org_slug)
    for batch in batches:
        prepared = prepare(batch)
        with transaction(sessions) as session:
            collection = service.get_collection(session, collection_id)
            org = orgs.get_by_slug(session, org_slug) if org_slug is not None else None
            totals.add(store(session, prepared, collection=collection, org=org))
        if progress is not None:
            progress(prepared.size)
    return totals
