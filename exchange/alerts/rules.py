"""The no-noise rules (decision 0011): alert once, escalate only when what to do changed, clear when the
object is revoked, expired, deleted or no longer names the asset, never again after a suppressing answer;
and tell an organisation when a course of action now mitigates what it was alerted about.

Every change is an ``alert`` row change plus an ``alert_event`` (the outbox delivery reads), in the
caller's transaction. New alerts and their events are inserted in bulk (two statements a batch).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, insert, or_, select, text
from sqlalchemy.orm import Session

from exchange.alerts.candidates import CHUNK, ROW, Mitigation, Row, readable
from exchange.alerts.finders import Hit
from exchange.alerts.models import (
    SEVERITY_ORDER,
    Alert,
    AlertEvent,
    AlertEventType,
    AlertState,
    Severity,
    SourceGrade,
    Suppression,
)
from exchange.assets.models import Asset
from exchange.core.timestamps import now_micros
from exchange.store.bulk import batched
from exchange.store.models import StixObject

OPEN = frozenset({AlertState.new, AlertState.acknowledged, AlertState.need_help, AlertState.accepted_risk})
# Answers after which nothing about the same value and asset reaches the organisation again.
SUPPRESSING = frozenset({AlertState.false_positive, AlertState.not_ours})
_OPEN_VALUES = sorted(s.value for s in OPEN)


@dataclass(slots=True)
class Found:
    """A hit the organisation may read, with its grade and severity."""

    hit: Hit
    row: Row
    grade: SourceGrade
    severity: Severity
    verified: bool


@dataclass(slots=True)
class Changes:
    created: int = 0
    escalated: int = 0
    cleared: int = 0
    withheld: int = 0  # of the created: "please verify" notices


def _gone(row: Row, now: int) -> bool:
    return row.revoked or (row.valid_until is not None and row.valid_until <= now)


def apply(session: Session, first: int, last: int, found: list[Found]) -> Changes:
    """Alerts for the hits of the current versions with ``first < pk <= last``, and what those versions
    change about earlier alerts on the same objects."""
    now = now_micros()
    changes = Changes()
    by_key = {(f.hit.org_pk, f.row.stix_id, f.hit.match_key): f for f in found}
    had: set[tuple[int, str, str]] = set()
    for row, alerts in _existing(session, first, last).items():
        for alert in alerts:
            had.add((alert.org_pk, alert.object_id, alert.match_key))
            if row.modified <= alert.object_modified:
                continue
            match = by_key.get((alert.org_pk, alert.object_id, alert.match_key))
            if _gone(row, now) or match is None:
                if alert.state in OPEN:
                    event(session, alert, AlertEventType.cleared, now, state=AlertState.cleared, version=row.modified)
                    changes.cleared += 1
            elif alert.state not in SUPPRESSING and (
                    SEVERITY_ORDER[match.severity] > SEVERITY_ORDER[Severity(alert.severity)]
                    or match.hit.matched != alert.matched or alert.state == AlertState.cleared):
                alert.severity, alert.matched, alert.grade = match.severity, match.hit.matched, match.grade
                alert.withheld = not match.verified
                event(session, alert, AlertEventType.escalated, now, state=AlertState.new, version=row.modified)
                changes.escalated += 1
    _create(session, [f for key, f in by_key.items() if key not in had and not _gone(f.row, now)], now, changes)
    session.flush()
    return changes


def _create(session: Session, found: list[Found], now: int, changes: Changes) -> None:
    suppressed = _suppressed(session, found)
    waiting = _withheld_assets(session, found)
    alerts: list[dict[str, object]] = []
    notify: list[bool] = []  # does it get a "created" event: one "please verify" notice per asset, not per object
    for f in found:
        asset_pk = f.hit.asset.pk if f.hit.asset is not None else None
        if asset_pk is not None and (f.hit.org_pk, asset_pk, f.hit.matched) in suppressed:
            continue
        alerts.append({"org_pk": f.hit.org_pk, "asset_pk": asset_pk, "match_key": f.hit.match_key,
                       "object_id": f.row.stix_id, "object_modified": f.row.modified,
                       "publisher_org_pk": f.row.publisher, "kind": f.hit.kind.value,
                       "severity": f.severity.value, "grade": f.grade.value, "state": AlertState.new.value,
                       "matched": f.hit.matched[:1024], "created_at": now, "updated_at": now,
                       "withheld": not f.verified})
        notify.append(f.verified or asset_pk not in waiting)
        if not f.verified:
            changes.withheld += 1
            waiting.add(asset_pk)
    if not alerts:
        return
    keys = {(r[1], r[2], r[3]): r[0] for r in _insert(session, Alert, alerts,
                                                      returning=("pk", "org_pk", "object_id", "match_key"))}
    events = [{"alert_pk": keys[(a["org_pk"], a["object_id"], a["match_key"])], "org_pk": a["org_pk"],
               "type": AlertEventType.created.value, "created_at": now} for a, told in zip(alerts, notify, strict=True)
              if told]
    _insert(session, AlertEvent, events)
    changes.created += len(alerts)


def _insert(session: Session, model: type[Alert | AlertEvent], rows: list[dict[str, Any]],
            returning: Sequence[str] = ()) -> list[tuple[Any, ...]]:
    """Insert ``rows`` in one statement, returning ``returning`` of each (in no particular order).

    The ORM's unit of work, and even SQLAlchemy's multi-row VALUES with thousands of parameters, cost more
    than matching itself for the thousands of alerts of a large batch (3,000 rows: 3 s on a loaded
    PostgreSQL). On PostgreSQL the rows go as one array per column, ``INSERT … SELECT unnest(…)``: 13
    parameters however many rows (0.5 s). Column names and types come from our own models, never from
    input."""
    if not rows:
        return []
    if session.get_bind().dialect.name == "postgresql":
        dialect = session.get_bind().dialect
        names = list(rows[0])
        columns = model.__table__.c
        # the column's type without its collation (``key_string`` is ``VARCHAR(n) COLLATE "C"``): an array cast
        types = {n: columns[n].type.compile(dialect=dialect).split(" COLLATE ")[0] for n in names}
        arrays = ", ".join(f"unnest(CAST(:{n} AS {types[n]}[]))" for n in names)
        back = f" RETURNING {', '.join(returning)}" if returning else ""
        statement = text(f"INSERT INTO {model.__tablename__} ({', '.join(names)}) SELECT {arrays}{back}")  # noqa: S608
        result = session.execute(statement, {n: [r[n] for r in rows] for n in names})
    else:
        table = insert(model)
        result = session.execute(table.returning(*(getattr(model, n) for n in returning)) if returning else table, rows)
    return [tuple(r) for r in result] if returning else []


def event(session: Session, alert: Alert, kind: AlertEventType, now: int, *, state: AlertState,
          version: int | None = None) -> None:
    alert.state, alert.updated_at = state.value, now
    if version is not None:
        alert.object_modified = version
    session.add(AlertEvent(alert_pk=alert.pk, org_pk=alert.org_pk, type=kind.value, created_at=now))


def _existing(session: Session, first: int, last: int) -> dict[Row, list[Alert]]:
    """Alerts about the objects whose current version is in the key range, joined in the database from the
    range (one index probe per version) rather than by sending every id."""
    found: dict[Row, list[Alert]] = defaultdict(list)
    for result in session.execute(
            select(Alert, *ROW).join(StixObject, StixObject.stix_id == Alert.object_id)
            .where(StixObject.pk > first, StixObject.pk <= last, StixObject.is_latest.is_(True))):
        found[Row._make(result[1:])].append(result[0])
    return found


def _suppressed(session: Session, found: list[Found]) -> set[tuple[int, int, str]]:
    assets = sorted({f.hit.asset.pk for f in found if f.hit.asset is not None})
    rows: set[tuple[int, int, str]] = set()
    for chunk in batched(assets, CHUNK):
        rows.update((o, a, m) for o, a, m in session.execute(
            select(Suppression.org_pk, Suppression.asset_pk, Suppression.matched)
            .where(Suppression.asset_pk.in_(chunk))))
    return rows


def _withheld_assets(session: Session, found: list[Found]) -> set[int | None]:
    """Unverified assets that already have an open "please verify" notice."""
    assets = sorted({f.hit.asset.pk for f in found if f.hit.asset is not None and not f.verified})
    waiting: set[int | None] = set()
    for chunk in batched(assets, CHUNK):
        waiting.update(session.scalars(select(Alert.asset_pk).where(
            Alert.asset_pk.in_(chunk), Alert.withheld.is_(True), Alert.state == AlertState.new.value)))
    return waiting


def mitigated(session: Session, mitigations: list[Mitigation], *, created_before: int) -> int:
    """Open alerts about an object that a newly stored ``course-of-action`` ``mitigates``: escalated (back to
    "new", with an event), so the organisation hears the steps delivery reads from the course of action.
    Alerts created by this same batch are left alone: their first message already reads those steps, and a
    CSIRT publishing an indicator with its course of action must not send two messages.
    Only where the organisation may read both the relationship and the course of action: an alert never
    tells of a mitigation the organisation could not read. A relationship stored before its course of
    action finds none to read, and escalates nothing."""
    if not mitigations:
        return 0
    by_target: dict[str, list[Mitigation]] = defaultdict(list)
    for m in mitigations:
        by_target[m.target].append(m)
    courses: dict[str, int] = {}
    for chunk in batched(sorted({m.course_of_action for m in mitigations}), CHUNK):
        courses.update((r[0], r[1]) for r in session.execute(select(StixObject.stix_id, StixObject.pk).where(
            StixObject.stix_id.in_(chunk), StixObject.is_latest.is_(True), StixObject.revoked.is_(False))))
    alerts = [a for chunk in batched(sorted(by_target), CHUNK) for a in session.scalars(select(Alert).where(
        Alert.object_id.in_(chunk), Alert.state.in_(_OPEN_VALUES), Alert.withheld.is_(False),
        Alert.created_at < created_before))]
    pairs = {(a.org_pk, pk) for a in alerts for m in by_target[a.object_id]
             for pk in (m.row.pk, courses.get(m.course_of_action)) if pk is not None}
    allowed = readable(session, pairs)
    now, escalated = now_micros(), 0
    for alert in alerts:
        if any((alert.org_pk, m.row.pk) in allowed and m.course_of_action in courses
               and (alert.org_pk, courses[m.course_of_action]) in allowed for m in by_target[alert.object_id]):
            event(session, alert, AlertEventType.escalated, now, state=AlertState.new)
            escalated += 1
    session.flush()
    return escalated


def clear_gone(session: Session) -> int:
    """Open alerts whose object has no current, unrevoked version within its ``valid_until`` any more
    (expired, revoked, or deleted from every collection): all clear. Driven from the open alerts (one
    probe each through the id index), not from a scan of the object table: ``OFFSET 0`` keeps PostgreSQL
    from turning the ``NOT EXISTS`` into an anti-join, which it planned as a hash of every current
    version (as ``access.readers``; decision 0011)."""
    now = now_micros()
    current = exists(select(StixObject.pk).where(
        StixObject.stix_id == Alert.object_id, StixObject.is_latest.is_(True), StixObject.revoked.is_(False),
        or_(StixObject.valid_until.is_(None), StixObject.valid_until > now)).offset(0))
    alerts = list(session.scalars(select(Alert).where(Alert.state.in_(_OPEN_VALUES), ~current)))
    for alert in alerts:
        event(session, alert, AlertEventType.cleared, now, state=AlertState.cleared)
    session.flush()
    return len(alerts)


def reveal(session: Session) -> int:
    """Withheld alerts whose asset has been verified since: now told in full (an escalated event)."""
    now = now_micros()
    alerts = [a for a, expires in session.execute(
        select(Alert, Asset.verification_expires_at).join(Asset, Asset.pk == Alert.asset_pk)
        .where(Alert.withheld.is_(True), Asset.verified_at.is_not(None)))
        if expires is None or expires > now]
    for alert in alerts:
        alert.withheld = False
        if alert.state != AlertState.cleared.value:
            event(session, alert, AlertEventType.escalated, now, state=AlertState(alert.state))
    session.flush()
    return len(alerts)
