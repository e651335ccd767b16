"""Push feeds: forward a local collection to a remote TAXII server, from where the last run stopped.

What leaves is read through ``sharing.access`` as the feed's owner, so a push feed forwards at most
what its owner may read here, and then only what the destination may be given:

- TLP:CLEAR and TLP:GREEN (the community levels) by default;
- TLP:AMBER too when the feed says the destination is covered by a sharing agreement (option
  ``sharing_agreement=true``: the operator's statement that the remote community is one the AMBER
  data may reach);
- never TLP:AMBER+STRICT or TLP:RED: they are for named organisations of this hub only.

The level is the hub's effective level of each version (its markings, else the collection's
default), so an unmarked object of an AMBER collection stays home. Objects leave as stored, so TLP
must never weaken on the way out: a version whose effective level is not carried by its own
markings (an unmarked object, GREEN or AMBER here by its collection's default) would arrive
unmarked, which receivers read as TLP:CLEAR. It is sent only when that level is CLEAR (or it is one
of the standard TLP marking definitions, public by nature); otherwise it is held back and counted
as rejected, with the reason. It is not re-marked: a new marking without a new ``modified`` would be
a second content for one version, and a new version is its author's to make. The bookmark is the last object
version (row) read: each run sends the versions added since, oldest first, in batches of
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
from connectors.taxii_push import Sent
from exchange.core.db import transaction
from exchange.orgs.models import Org
from exchange.sharing import access
from exchange.stix import tlp
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


def held_back(obj: dict[str, Any], effective: str) -> str | None:
    """Why a readable version of a level that may leave still stays home, or None when it may go.

    ``effective`` is the level ``store.ingest`` stored for the version (its markings, else the
    collection's default; the level ``sharing.access`` reads by). The remote sees only the object,
    so it goes only when its own markings say that level, or the level is CLEAR (what unmarked
    means anyway)."""
    if effective == Tlp.clear.value or tlp.marked_level(obj) == Tlp(effective) or obj.get("id") in tlp.DEFINITIONS:
        return None
    return (f"{obj.get('id')}: not sent: TLP:{effective.upper()} here only by the collection's default; it carries "
            "no TLP marking of its own and would arrive unmarked, read as TLP:CLEAR (its author may publish a "
            "version that carries the marking)")


def pending(session: Session, owner: Org, collection_pk: int, after_pk: int, allowed: tuple[str, ...],
            limit: int) -> list[tuple[int, bytes, str]]:
    """The next versions to send (pk, raw, effective level): readable by the owner, of a level that
    may leave, after the bookmark."""
    query = (select(StixObject.pk, StixObject.raw, StixObject.tlp)
             .where(access.visible(owner), StixObject.collection_pk == collection_pk, StixObject.pk > after_pk,
                    StixObject.tlp.in_(allowed))
             .order_by(StixObject.pk).limit(limit))
    return [(pk, raw, level) for pk, raw, level in session.execute(query)]


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
            objects: list[dict[str, Any]] = []
            skipped: list[str] = []
            for _, raw, level in rows:
                obj = orjson.loads(raw)
                reason = held_back(obj, level)
                if reason is None:
                    objects.append(obj)
                else:
                    skipped.append(reason)
            sent = pusher.send(objects) if objects else Sent(0, 0)
            after = rows[-1][0]
            yield Batch(len(rows), sent.successes, sent.failures + len(skipped), {"last_pk": after},
                        [*skipped, *sent.problems])
