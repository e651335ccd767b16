"""Alert matching: every stored object version, once, against every organisation's assets.

A job, not a step of ``store.ingest``: matching needs the whole inventory and the read rule per
organisation, which would slow every TAXII POST, and a job batches thousands of objects per query.
It reads ``stix_object`` past a cursor (``MatchCursor``) in ``pk`` order. That never misses a row:
every insert into ``stix_object`` goes through ``store.ingest``, which takes the ingest lock (an
advisory lock on PostgreSQL, the database write lock on SQLite) before allocating keys and holds it
to commit, so keys become visible in increasing order and no row can appear below the cursor later.
It never doubles one: the cursor moves in the transaction that writes the alerts, and the run locks
the cursor row first, so a second run waits and then starts where the first stopped.

The parts: ``candidates`` reads what the batch is about, ``finders`` decides what each value hits,
``rules`` turns hits into alerts and events. Decision 0011 has the reasoning and the measurements.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from exchange.alerts import candidates, grading, rules
from exchange.alerts.candidates import Row
from exchange.alerts.finders import Hit
from exchange.alerts.inventory import current, prepare
from exchange.alerts.models import AlertKind, MatchCursor
from exchange.alerts.rules import OPEN, SUPPRESSING
from exchange.core.timestamps import now_micros
from exchange.orgs.models import Org, Role
from exchange.store.models import StixObject

__all__ = ["BATCH", "OPEN", "SUPPRESSING", "Outcome", "match_pending", "pending", "prepare", "preview", "run"]

BATCH = 20_000  # object versions per run of the job (one transaction)
CURSOR = "stix_object"
_MX_ONLY_LABELS = frozenset({"mx-only", "mx_only"})


@dataclass(slots=True)
class Outcome:
    objects: int = 0  # versions read past the cursor
    created: int = 0
    escalated: int = 0
    cleared: int = 0
    withheld: int = 0  # of the created: "please verify" notices
    last_pk: int = 0

    def add(self, other: Outcome) -> None:
        for name in ("objects", "created", "escalated", "cleared", "withheld"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.last_pk = other.last_pk


def pending(session: Session) -> int:
    """Object versions stored but not matched yet."""
    cursor = session.get(MatchCursor, CURSOR)
    last = cursor.last_pk if cursor is not None else 0
    top = session.scalar(select(StixObject.pk).order_by(StixObject.pk.desc()).limit(1)) or 0
    return max(top - last, 0)


def match_pending(session: Session, *, limit: int = BATCH) -> Outcome:
    """Match the next ``limit`` stored versions past the cursor and move it; the caller commits."""
    cursor = _claim(session)
    count, last = candidates.window(session, cursor.last_pk, limit)
    outcome = Outcome(objects=count, last_pk=cursor.last_pk)
    if not count:
        return outcome
    batch, found = _found(session, cursor.last_pk, last)
    started = now_micros()
    changes = rules.apply(session, cursor.last_pk, last, found)  # also when nobody has assets: clearing
    escalated = rules.mitigated(session, batch.mitigations, created_before=started)
    outcome.created, outcome.escalated = changes.created, changes.escalated + escalated
    outcome.cleared, outcome.withheld = changes.cleared, changes.withheld
    cursor.last_pk = outcome.last_pk = last
    cursor.updated_at = now_micros()
    return outcome


def preview(session: Session, first: int, last: int) -> list[rules.Found]:
    """What matching will find in the versions with ``first < pk <= last``, without writing an alert or moving
    the cursor: the advisory form stores its objects in a savepoint, asks this, and rolls back, so the reach it
    shows before publishing is this code's answer, not a second copy of the rules."""
    return _found(session, first, last)[1]


def _found(session: Session, first: int, last: int) -> tuple[candidates.Batch, list[rules.Found]]:
    """The hits of the versions in the key range that the organisation hit may read, graded."""
    inventory = current(session)
    batch = candidates.Batch()
    if inventory.index.any():
        batch = candidates.collect(session, inventory.finders(), first, last)
    hits = _dedupe(batch.hits)
    allowed = candidates.readable(session, ((h.org_pk, row.pk) for h, row in hits))
    return batch, _graded(session, batch.raws, [(h, row) for h, row in hits if (h.org_pk, row.pk) in allowed])


def _claim(session: Session) -> MatchCursor:
    """Lock the cursor row for this transaction (created at 0 the first time): a concurrent run waits."""
    now = now_micros()
    locked = session.execute(update(MatchCursor).where(MatchCursor.name == CURSOR).values(updated_at=now))
    if getattr(locked, "rowcount", 0) == 0:
        session.add(MatchCursor(name=CURSOR, last_pk=0, updated_at=now))
        session.flush()
    cursor = session.get(MatchCursor, CURSOR, populate_existing=True)
    assert cursor is not None  # noqa: S101 - just written
    return cursor


def _dedupe(hits: list[tuple[Hit, Row]]) -> list[tuple[Hit, Row]]:
    """One hit per (organisation, object, match key): the first, with the most specific kind."""
    best: dict[tuple[int, str, str], tuple[Hit, Row]] = {}
    for hit, row in hits:
        key = (hit.org_pk, row.stix_id, hit.match_key)
        if key not in best or (best[key][0].kind == AlertKind.lookalike and hit.kind != AlertKind.lookalike):
            best[key] = (hit, row)
    return list(best.values())


def mx_only(obj: Mapping[str, Any]) -> bool:
    """Does the publisher say the look-alike domain has only a mail exchanger (no web site)? Such a name
    exists to send or receive mail as us: invoice fraud, so it weighs one step more. Said with
    ``x_exchange_mx_only: true`` or the label ``mx-only`` on the indicator or domain-name object."""
    labels = obj.get("labels")
    return obj.get("x_exchange_mx_only") is True or (
        isinstance(labels, list) and any(isinstance(x, str) and x.lower() in _MX_ONLY_LABELS for x in labels))


def _graded(session: Session, raws: Mapping[int, Mapping[str, Any]],
            hits: list[tuple[Hit, Row]]) -> list[rules.Found]:
    publishers = {row.publisher for _, row in hits if row.publisher is not None}
    roles: dict[int, Role] = {r[0]: r[1] for r in session.execute(select(Org.pk, Org.role).where(
        Org.pk.in_(publishers)))} if publishers else {}
    found = []
    for hit, row in hits:
        obj = raws.get(row.pk, {})
        source = grading.grade(obj.get("confidence"), roles.get(row.publisher) if row.publisher is not None else None)
        level = grading.severity(hit.kind, source, exploited=hit.exploited,
                                 mx_only=hit.kind == AlertKind.lookalike and mx_only(obj))
        found.append(rules.Found(hit, row, source, level, hit.asset is None or hit.asset.verified))
    return found


def run(session: Session, *, limit: int = BATCH) -> Outcome:
    """One run of the job: the next batch of new versions, then expiries, deletions and newly verified
    assets."""
    outcome = match_pending(session, limit=limit)
    outcome.cleared += rules.clear_gone(session)
    outcome.escalated += rules.reveal(session)
    return outcome
