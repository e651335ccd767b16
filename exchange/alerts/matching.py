"""Alert matching: every stored object version, once, against every organisation's assets.

A job, not a step of ``store.ingest``: matching needs the whole inventory and the read rule per
organisation, which would slow every TAXII POST, and a job batches thousands of objects per query.
It reads ``stix_object`` past a cursor (``MatchCursor``) in ``pk`` order. That never misses a row:
every insert into ``stix_object`` goes through ``store.ingest``, which takes the ingest lock (an
advisory lock on PostgreSQL, the database write lock on SQLite) before allocating keys and holds it
to commit, so keys become visible in increasing order and no row can appear below the cursor later.
It never doubles one: the cursor moves in the transaction that writes the alerts, and the run locks
the cursor row first, so a second run waits and then starts where the first stopped.
Decision 0011 has the reasoning and the measurements.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeVar

import orjson
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from exchange.alerts import grading, lookalike
from exchange.alerts.benign import builtin
from exchange.alerts.finders import Finders, Hit, addresses, asn_numbers
from exchange.alerts.index import AssetIndex, AssetRow
from exchange.alerts.models import (
    SEVERITY_ORDER,
    Alert,
    AlertEvent,
    AlertEventType,
    AlertKind,
    AlertState,
    MatchCursor,
    Severity,
    SourceGrade,
    Suppression,
)
from exchange.assets.models import Asset, OrgProfile
from exchange.core.timestamps import now_micros
from exchange.orgs.models import Org, Role
from exchange.sharing import access
from exchange.stix.observables import Extracted
from exchange.store.models import Observable, StixObject

BATCH = 20_000  # object versions per run of the job (one transaction)
CURSOR = "stix_object"
OPEN = frozenset({AlertState.new, AlertState.acknowledged, AlertState.need_help, AlertState.accepted_risk})
# Answers after which nothing about the same value and asset reaches the organisation again.
SUPPRESSING = frozenset({AlertState.false_positive, AlertState.not_ours})
_RAW_TYPES = ("vulnerability", "report", "course-of-action", "observed-data", "sighting", "autonomous-system")
_CHUNK = 2_000  # pairs or ids per statement: well under every driver's parameter limit
T = TypeVar("T")


class _Row(NamedTuple):
    pk: int
    stix_id: str
    type: str
    modified: int
    revoked: bool
    valid_until: int | None
    is_latest: bool
    publisher: int | None


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


@dataclass(slots=True)
class _Found:
    """A hit the organisation may read, with its grade and severity."""

    hit: Hit
    row: _Row
    grade: SourceGrade
    severity: Severity
    verified: bool


@dataclass(slots=True)
class _Batch:
    rows: list[_Row]
    observables: dict[int, list[Extracted]] = field(default_factory=dict)
    raws: dict[int, dict[str, Any]] = field(default_factory=dict)


def prepare(session: Session) -> None:
    """Read the inventory and build its look-alike index now, not in the first run (a worker's start, a
    benchmark's setup)."""
    _inventory(session).lookalike_index()


def pending(session: Session) -> int:
    """Object versions stored but not matched yet."""
    cursor = session.get(MatchCursor, CURSOR)
    last = cursor.last_pk if cursor is not None else 0
    top = session.scalar(select(StixObject.pk).order_by(StixObject.pk.desc()).limit(1)) or 0
    return max(top - last, 0)


def match_pending(session: Session, *, limit: int = BATCH) -> Outcome:
    """Match the next ``limit`` stored versions past the cursor and move it; the caller commits."""
    cursor = _claim(session)
    rows = [_Row(*r) for r in session.execute(
        select(StixObject.pk, StixObject.stix_id, StixObject.type, StixObject.modified, StixObject.revoked,
               StixObject.valid_until, StixObject.is_latest, StixObject.publisher_org_pk)
        .where(StixObject.pk > cursor.last_pk).order_by(StixObject.pk).limit(limit))]
    outcome = Outcome(objects=len(rows), last_pk=cursor.last_pk)
    if not rows:
        return outcome
    current = [r for r in rows if r.is_latest]  # a version already superseded changes nothing
    if current:
        _match(session, current, rows[0].pk, rows[-1].pk, outcome)
    cursor.last_pk = outcome.last_pk = rows[-1].pk
    cursor.updated_at = now_micros()
    return outcome


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


def _match(session: Session, rows: list[_Row], first: int, last: int, outcome: Outcome) -> None:
    inventory = _inventory(session)
    index = inventory.index
    if not index.any():
        return
    batch = _load(session, rows, first, last, with_indicators=index.has_asns)
    finders = Finders(index, inventory.lookalike_index(), builtin())
    hits = _dedupe(_hits(session, finders, batch))
    readable = _readable(session, [(h.org_pk, row.pk) for h, row in hits])
    hits = [(h, row) for h, row in hits if (h.org_pk, row.pk) in readable]
    found = _graded(session, batch, hits)
    _apply(session, rows, found, outcome)


def _load(session: Session, rows: list[_Row], first: int, last: int, *, with_indicators: bool) -> _Batch:
    batch = _Batch(rows)
    wanted = {r.pk for r in rows}
    for pk, kind, value, lo, hi in session.execute(
            select(Observable.object_pk, Observable.kind, Observable.value, Observable.ip_lo, Observable.ip_hi)
            .where(Observable.object_pk >= first, Observable.object_pk <= last)):
        if pk in wanted:
            batch.observables.setdefault(pk, []).append(Extracted(kind, value, lo, hi))
    types = (*_RAW_TYPES, "indicator") if with_indicators else _RAW_TYPES
    raw_pks = [r.pk for r in rows if r.type in types]
    batch.raws.update(_raws(session, raw_pks))
    return batch


def _raws(session: Session, pks: Sequence[int]) -> Iterator[tuple[int, dict[str, Any]]]:
    for chunk in _chunks(pks):
        for pk, raw in session.execute(select(StixObject.pk, StixObject.raw).where(StixObject.pk.in_(chunk))):
            yield pk, orjson.loads(raw)


def _chunks(items: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start:start + _CHUNK]


@dataclass(slots=True)
class _Inventory:
    """The asset index and the look-alike index of its verified domains, as of ``fingerprint``."""

    fingerprint: tuple[Any, ...]
    index: AssetIndex
    lookalikes: lookalike.LookalikeIndex[AssetRow] | None = None

    def lookalike_index(self) -> lookalike.LookalikeIndex[AssetRow]:
        if self.lookalikes is None:
            self.lookalikes = lookalike.LookalikeIndex((d.value, d) for d in self.index.domains if d.verified)
        return self.lookalikes


_CACHE: dict[str, _Inventory] = {}


def _inventory(session: Session) -> _Inventory:
    """The inventory, re-read only when an asset or profile changed or a verification expired: reading
    100,000 assets and indexing their look-alikes costs more than matching a batch (decision 0011)."""
    fingerprint = (
        *session.execute(select(func.count(), func.sum(Asset.pk), func.max(Asset.verified_at),
                                func.max(Asset.verification_expires_at), func.max(Asset.checked_at))).one(),
        *session.execute(select(func.count(), func.max(OrgProfile.updated_at))).one())
    bind = session.get_bind()
    key = str((bind if isinstance(bind, Engine) else bind.engine).url)  # one cache per database
    cached = _CACHE.get(key)
    stale = cached is not None and cached.index.stale_at is not None and cached.index.stale_at <= now_micros()
    if cached is None or stale or cached.fingerprint != fingerprint:
        cached = _CACHE[key] = _Inventory(fingerprint, AssetIndex.load(session))
    return cached


def _hits(session: Session, finders: Finders, batch: _Batch) -> Iterator[tuple[Hit, _Row]]:
    scos = _referenced_scos(session, batch)
    for row in batch.rows:
        obj = batch.raws.get(row.pk)
        found = batch.observables.get(row.pk, [])
        if row.type == "observed-data" and obj is not None:
            named, numbers = addresses(obj, scos)
            yield from ((h, row) for h in finders.observables(named, kind=AlertKind.exposure, lookalike=False))
            yield from ((h, row) for h in finders.asns(numbers, AlertKind.exposure))
        elif row.type == "sighting" and obj is not None:
            for ref in obj.get("observed_data_refs") or ():
                observed = scos.get(ref) if isinstance(ref, str) else None
                if observed:
                    yield from ((h, row) for h in finders.observables(observed, kind=AlertKind.exposure,
                                                                       lookalike=False))
        elif row.type == "vulnerability" and obj is not None:
            yield from ((h, row) for h in finders.software(obj))
        elif row.type in ("report", "course-of-action") and obj is not None:
            yield from ((h, row) for h in finders.sectors(obj))
        else:
            yield from ((h, row) for h in finders.observables(found, lookalike=row.type in ("indicator", "url",
                                                                                             "domain-name")))
            if obj is not None:
                yield from ((h, row) for h in finders.asns(asn_numbers(obj)))


def _referenced_scos(session: Session, batch: _Batch) -> dict[str, list[Extracted]]:
    """Observables of the SCOs that observed-data in the batch reference, by id; for a sighting's observed
    data, the observables of the SCOs it references, under the observed-data's id."""
    refs: dict[str, None] = {}
    for obj in batch.raws.values():
        if obj.get("type") == "observed-data":
            refs.update(dict.fromkeys(r for r in obj.get("object_refs") or () if isinstance(r, str)))
        elif obj.get("type") == "sighting":
            refs.update(dict.fromkeys(r for r in obj.get("observed_data_refs") or () if isinstance(r, str)))
    if not refs:
        return {}
    found: dict[str, list[Extracted]] = defaultdict(list)
    observed: list[tuple[str, dict[str, Any]]] = []
    for chunk in _chunks(list(refs)):
        rows = session.execute(select(StixObject.stix_id, StixObject.type, StixObject.pk, StixObject.raw)
                               .where(StixObject.stix_id.in_(chunk), StixObject.is_latest.is_(True)))
        for stix_id, kind, pk, raw in rows:
            if kind == "observed-data":
                observed.append((stix_id, orjson.loads(raw)))
            else:
                found[stix_id].extend(_observables_of(session, pk))
    if observed:
        inner = _referenced_scos(session, _Batch([], raws={i: obj for i, (_, obj) in enumerate(observed)}))
        for stix_id, obj in observed:
            found[stix_id].extend(addresses(obj, inner)[0])
    return found


def _observables_of(session: Session, pk: int) -> list[Extracted]:
    return [Extracted(*r) for r in session.execute(
        select(Observable.kind, Observable.value, Observable.ip_lo, Observable.ip_hi)
        .where(Observable.object_pk == pk))]


def _dedupe(hits: Iterable[tuple[Hit, _Row]]) -> list[tuple[Hit, _Row]]:
    """One hit per (organisation, object, match key): the first, with the most specific kind."""
    best: dict[tuple[int, str, str], tuple[Hit, _Row]] = {}
    for hit, row in hits:
        key = (hit.org_pk, row.stix_id, hit.match_key)
        if key not in best or (best[key][0].kind == AlertKind.lookalike and hit.kind != AlertKind.lookalike):
            best[key] = (hit, row)
    return list(best.values())


def _readable(session: Session, pairs: list[tuple[int, int]]) -> set[tuple[int, int]]:
    """The (organisation, object version) pairs the read rule lets through: ``access.readers``."""
    allowed: set[tuple[int, int]] = set()
    for chunk in _chunks(sorted(set(pairs))):
        allowed.update((org, pk) for org, pk in session.execute(access.readers(chunk)))
    return allowed


def _graded(session: Session, batch: _Batch, hits: list[tuple[Hit, _Row]]) -> list[_Found]:
    missing = sorted({row.pk for _, row in hits} - batch.raws.keys())
    batch.raws.update(_raws(session, missing))
    publishers = {row.publisher for _, row in hits if row.publisher is not None}
    roles = {r[0]: r[1] for r in session.execute(select(Org.pk, Org.role).where(Org.pk.in_(publishers)))}
    found = []
    for hit, row in hits:
        obj = batch.raws.get(row.pk, {})
        role: Role | None = roles.get(row.publisher) if row.publisher is not None else None
        source = grading.grade(obj.get("confidence"), role)
        level = grading.severity(hit.kind, source, exploited=hit.exploited)
        verified = hit.asset is None or hit.asset.verified
        found.append(_Found(hit, row, source, level, verified))
    return found


def _apply(session: Session, rows: list[_Row], found: list[_Found], outcome: Outcome) -> None:
    """The no-noise rules (decision 0011): alert once, escalate only when what to do changed, clear on
    revocation, expiry or when a new version no longer names the asset; never after a suppressing answer."""
    now = now_micros()
    existing = _existing(session, rows)
    by_key = {(f.hit.org_pk, f.row.stix_id, f.hit.match_key): f for f in found}
    suppressed = _suppressed(session, found)
    waiting = _withheld_assets(session, found)
    for row in rows:
        gone = row.revoked or (row.valid_until is not None and row.valid_until <= now)
        for alert in existing.get(row.stix_id, ()):
            if row.modified <= alert.object_modified:
                continue
            match = by_key.pop((alert.org_pk, alert.object_id, alert.match_key), None)
            if gone or match is None:
                if alert.state in OPEN:
                    _event(session, alert, AlertEventType.cleared, now, state=AlertState.cleared, version=row.modified)
                    outcome.cleared += 1
            elif alert.state not in SUPPRESSING and (
                    SEVERITY_ORDER[Severity(match.severity)] > SEVERITY_ORDER[Severity(alert.severity)]
                    or match.hit.matched != alert.matched or alert.state == AlertState.cleared):
                alert.severity, alert.matched, alert.grade = match.severity, match.hit.matched, match.grade
                alert.withheld = not match.verified
                _event(session, alert, AlertEventType.escalated, now, state=AlertState.new, version=row.modified)
                outcome.escalated += 1
    new = [f for key, f in by_key.items() if key[1] not in existing or all(
        (a.org_pk, a.match_key) != (key[0], key[2]) for a in existing[key[1]])]
    created: list[tuple[Alert, bool]] = []  # with: does it get a "created" event
    for f in new:
        if f.row.revoked or (f.row.valid_until is not None and f.row.valid_until <= now):
            continue
        asset_pk = f.hit.asset.pk if f.hit.asset is not None else None
        if asset_pk is not None and (f.hit.org_pk, asset_pk, f.hit.matched) in suppressed:
            continue
        alert = Alert(org_pk=f.hit.org_pk, asset_pk=asset_pk, match_key=f.hit.match_key, object_id=f.row.stix_id,
                      object_modified=f.row.modified, kind=f.hit.kind.value, severity=f.severity.value,
                      grade=f.grade.value, state=AlertState.new.value, matched=f.hit.matched[:1024],
                      created_at=now, updated_at=now, withheld=not f.verified)
        notify = f.verified or asset_pk not in waiting  # one "please verify" notice per asset, not per object
        if not f.verified:
            outcome.withheld += 1
            waiting.add(asset_pk)
        created.append((alert, notify))
    session.add_all([alert for alert, _ in created])
    session.flush()  # one flush for all: their keys, for the events
    session.add_all([AlertEvent(alert_pk=alert.pk, org_pk=alert.org_pk, type=AlertEventType.created.value,
                                created_at=now) for alert, notify in created if notify])
    outcome.created += len(created)
    session.flush()


def _event(session: Session, alert: Alert, kind: AlertEventType, now: int, *, state: AlertState,
           version: int | None = None) -> None:
    alert.state, alert.updated_at = state.value, now
    if version is not None:
        alert.object_modified = version
    session.add(AlertEvent(alert_pk=alert.pk, org_pk=alert.org_pk, type=kind.value, created_at=now))


def _existing(session: Session, rows: list[_Row]) -> dict[str, list[Alert]]:
    """Alerts about the objects of ``rows``, found by joining from the rows' key range in the database (one
    index probe per row) rather than by sending every id."""
    found: dict[str, list[Alert]] = defaultdict(list)
    wanted = {r.stix_id for r in rows}
    ids = select(StixObject.stix_id).where(StixObject.pk >= rows[0].pk, StixObject.pk <= rows[-1].pk)
    for alert in session.scalars(select(Alert).where(Alert.object_id.in_(ids))):
        if alert.object_id in wanted:
            found[alert.object_id].append(alert)
    return found


def _suppressed(session: Session, found: list[_Found]) -> set[tuple[int, int, str]]:
    assets = sorted({f.hit.asset.pk for f in found if f.hit.asset is not None})
    rows: set[tuple[int, int, str]] = set()
    for chunk in _chunks(assets):
        rows.update((o, a, m) for o, a, m in session.execute(
            select(Suppression.org_pk, Suppression.asset_pk, Suppression.matched)
            .where(Suppression.asset_pk.in_(chunk))))
    return rows


def _withheld_assets(session: Session, found: list[_Found]) -> set[int | None]:
    """Unverified assets that already have an open "please verify" notice."""
    assets = sorted({f.hit.asset.pk for f in found if f.hit.asset is not None and not f.verified})
    waiting: set[int | None] = set()
    for chunk in _chunks(assets):
        waiting.update(session.scalars(select(Alert.asset_pk).where(
            Alert.asset_pk.in_(chunk), Alert.withheld.is_(True), Alert.state == AlertState.new.value)))
    return waiting


def clear_expired(session: Session) -> int:
    """Open alerts whose object's current version passed its ``valid_until``: all clear."""
    now = now_micros()
    expired = select(StixObject.stix_id).where(StixObject.is_latest.is_(True), StixObject.valid_until <= now)
    alerts = list(session.scalars(select(Alert).where(Alert.state.in_([s.value for s in OPEN]),
                                                      Alert.object_id.in_(expired))))
    for alert in alerts:
        _event(session, alert, AlertEventType.cleared, now, state=AlertState.cleared)
    session.flush()
    return len(alerts)


def reveal(session: Session) -> int:
    """Withheld alerts whose asset has been verified since: now told in full (an escalated event)."""
    now = now_micros()
    alerts = [a for a, verified_at, expires in session.execute(
        select(Alert, Asset.verified_at, Asset.verification_expires_at)
        .join(Asset, Asset.pk == Alert.asset_pk)
        .where(Alert.withheld.is_(True), Asset.verified_at.is_not(None)))
        if expires is None or expires > now]
    for alert in alerts:
        alert.withheld = False
        state = AlertState(alert.state) if alert.state != AlertState.cleared.value else AlertState.cleared
        if state != AlertState.cleared:
            _event(session, alert, AlertEventType.escalated, now, state=state)
    session.flush()
    return len(alerts)


def run(session: Session, *, limit: int = BATCH) -> Outcome:
    """One run of the job: the next batch of new versions, then expiries and newly verified assets."""
    outcome = match_pending(session, limit=limit)
    outcome.cleared += clear_expired(session)
    outcome.escalated += reveal(session)
    return outcome

