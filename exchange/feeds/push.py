"""Push feeds: forward a local collection to a remote TAXII server, from where the last run stopped.

What leaves is read through ``sharing.access`` as the feed's owner, so a push feed forwards at most
what its owner may read here, and then only what the destination may be given:

- TLP:CLEAR and TLP:GREEN (the community levels) by default;
- TLP:AMBER too when the feed says the destination is covered by a sharing agreement (option
  ``sharing_agreement=true``: the operator's statement that the remote community is one the AMBER
  data may reach);
- never TLP:AMBER+STRICT or TLP:RED: they are for named organisations of this hub only.

The level is the hub's effective level of each version (its markings, else the collection's
default), so an unmarked object of an AMBER collection stays home. The bookmark is the last object
version (row) sent: each run sends the versions added since, oldest first, in batches of
``page_size`` (default 200, under the 500 at which this hub queues a POST) each confirmed by the
remote's status before the bookmark moves. Decision 0013, "Push".
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

import connectors
from connectors.base import Source
from exchange.core.db import transaction
from exchange.orgs.models import Org
from exchange.sharing import access
from exchange.stix.tlp import Tlp
from exchange.store.models import StixObject

DEFAULT_PAGE_SIZE = 200
SHAREABLE = (Tlp.clear.value, Tlp.green.value)
AGREED = (*SHAREABLE, Tlp.amber.value)


@dataclass(slots=True)
class Batch:
    """One envelope sent, and the bookmark that holds now that the remote confirmed it."""

    fetched: int
    added: int
    rejected: int
    bookmark: dict[str, Any]
    problems: list[str] = field(default_factory=list)


def levels(options: Mapping[str, Any]) -> tuple[str, ...]:
    return AGREED if options.get("sharing_agreement") is True else SHAREABLE


def pending(session: Session, owner: Org, collection_pk: int, after_pk: int, allowed: tuple[str, ...],
            limit: int) -> list[tuple[int, bytes]]:
    """The next versions to send: readable by the owner, of a level that may leave, after the bookmark."""
    query = (select(StixObject.pk, StixObject.raw)
             .where(access.visible(owner), StixObject.collection_pk == collection_pk, StixObject.pk > after_pk,
                    StixObject.tlp.in_(allowed))
             .order_by(StixObject.pk).limit(limit))
    return [(pk, raw) for pk, raw in session.execute(query)]


def batches(sessions: sessionmaker[Session], kind: str, source: Source, owner_pk: int, collection_pk: int,
            bookmark: Mapping[str, Any]) -> Iterator[Batch]:
    """Send everything new, batch by batch; each batch read in a short transaction of its own (no
    transaction is held while the remote answers)."""
    after = int(bookmark.get("last_pk", 0))
    allowed = levels(source.options)
    size = int(source.option("page_size", DEFAULT_PAGE_SIZE))
    with connectors.PUSH_KINDS[kind](source) as pusher:
        while True:
            with transaction(sessions) as session:
                rows = pending(session, session.get_one(Org, owner_pk), collection_pk, after, allowed, size)
            if not rows:
                return
            sent = pusher.send([orjson.loads(raw) for _, raw in rows])
            after = rows[-1][0]
            yield Batch(len(rows), sent.successes, sent.failures, {"last_pk": after}, sent.problems)
