"""The outbox: alert events become delivery rows, workers claim due rows, and each outcome is recorded.

Exactly once, as far as a network allows: fanning an event out (one ``delivery`` per subscription
that wants it) and marking the event dispatched are one transaction, and (event, subscription) is
unique, so two workers fanning out the same event, or a crash between the two, neither doubles nor
loses a row. A claim is one statement — an UPDATE of the lease columns of the due rows, chosen by a
sub-select that PostgreSQL runs ``FOR UPDATE SKIP LOCKED`` (workers take disjoint rows without
waiting) and SQLite runs under its single write lock — committed before anything is sent. A worker
that dies holding rows frees them when the lease runs out; another sends them again with the same
delivery id, so the receiver sees a duplicate only under the same ``webhook-id`` / ``Message-ID``.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import delete, func, literal_column, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from exchange.alerts.delivery import service
from exchange.alerts.delivery.models import Delivery, DeliveryStatus, Digest, Subscription
from exchange.alerts.models import Alert, AlertEvent
from exchange.core.db import rowcount
from exchange.core.errors import NotFound
from exchange.core.timestamps import HOUR, SECOND, now_micros

FIRST_RETRY = 60 * SECOND
LONGEST_RETRY = 12 * HOUR


class Result(StrEnum):
    sent = "sent"
    retry = "retry"  # a temporary failure: try again later (timeouts, 5xx, 429, a busy mail server)
    refused = "refused"  # for good (410 Gone, a mailbox that does not exist): the subscription is disabled
    postponed = "postponed"  # the organisation's hourly cap is reached: not an attempt


@dataclass(frozen=True, slots=True)
class Outcome:
    result: Result
    detail: str = ""
    retry_after: int | None = None  # µs, when the endpoint said (Retry-After)


def fan_out(session: Session, *, limit: int = 1000) -> int:
    """Turn up to ``limit`` undispatched alert events into deliveries; returns how many events were handled."""
    pending = (select(AlertEvent).where(AlertEvent.dispatched_at.is_(None)).order_by(AlertEvent.pk).limit(limit)
               .with_for_update(skip_locked=True, of=AlertEvent))
    events = list(session.scalars(pending))
    if not events:
        return 0
    alerts = {a.pk: a for a in session.scalars(select(Alert).where(Alert.pk.in_({e.alert_pk for e in events})))}
    subs: dict[int, list[Subscription]] = {}
    for sub in session.scalars(select(Subscription).where(Subscription.org_pk.in_({e.org_pk for e in events}),
                                                          Subscription.disabled_at.is_(None))):
        subs.setdefault(sub.org_pk, []).append(sub)
    now = now_micros()
    add(session, [row(e, s, now) for e in events for s in subs.get(e.org_pk, [])
                  if service.wants(s, alerts[e.alert_pk])])
    session.execute(update(AlertEvent).where(AlertEvent.pk.in_([e.pk for e in events])).values(dispatched_at=now))
    return len(events)


def row(event: AlertEvent, sub: Subscription, now: int) -> dict[str, object]:
    """The new delivery of ``event`` to ``sub``: due now, or held for the subscription's digest."""
    return {"event_pk": event.pk, "subscription_pk": sub.pk, "org_pk": event.org_pk, "alert_pk": event.alert_pk,
            "status": (DeliveryStatus.pending if sub.digest == Digest.none else DeliveryStatus.held).value,
            "attempts": 0, "next_at": now, "created_at": now}


def add(session: Session, rows: list[dict[str, object]]) -> None:
    """Insert deliveries; an (event, subscription) pair that already has one keeps it, so adding is idempotent."""
    if rows:
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        session.execute(insert(Delivery).values(rows)
                        .on_conflict_do_nothing(index_elements=["event_pk", "subscription_pk"]))


def waiting(session: Session) -> bool:
    """Is there work for a dispatch run: an alert event not fanned out, or a due message nobody holds?
    Two reads on partial indexes, so every worker may ask several times a second without writing."""
    if session.scalar(select(AlertEvent.pk).where(AlertEvent.dispatched_at.is_(None)).limit(1)) is not None:
        return True
    now = now_micros()
    return session.scalar(select(Delivery.pk).where(
        Delivery.status == literal_column("'pending'"), Delivery.next_at <= now,
        func.coalesce(Delivery.leased_until, 0) <= now).limit(1)) is not None


def claim(session: Session, holder: str, *, limit: int, lease_seconds: float) -> list[int]:
    """Lease up to ``limit`` due deliveries to ``holder``; commit right after, before sending."""
    now = now_micros()
    due = (select(Delivery.pk)
           .where(Delivery.status == DeliveryStatus.pending.value, Delivery.next_at <= now,
                  func.coalesce(Delivery.leased_until, 0) <= now)
           .order_by(Delivery.next_at, Delivery.pk).limit(limit)
           .with_for_update(skip_locked=True))
    claimed = session.scalars(
        update(Delivery).where(Delivery.pk.in_(due.scalar_subquery()))
        .values(leased_by=holder, leased_until=now + round(lease_seconds * SECOND))
        .returning(Delivery.pk))
    return sorted(int(pk) for pk in claimed)


def record(session: Session, pk: int, holder: str, outcome: Outcome, *, max_attempts: int) -> bool:
    """Write what sending delivery ``pk`` gave; False when the lease was lost (another worker has it now)."""
    return pk in record_all(session, holder, {pk: outcome}, max_attempts=max_attempts)


def record_all(session: Session, holder: str, outcomes: Mapping[int, Outcome], *, max_attempts: int) -> set[int]:
    """Write a batch's outcomes in one transaction (one read, one flush): the deliveries whose lease was
    still ``holder``'s. A crash before the commit costs the batch's messages being sent again, under
    their ids, which is what a crash during the batch costs anyway."""
    rows = session.scalars(select(Delivery).where(Delivery.pk.in_(list(outcomes)), Delivery.leased_by == holder,
                                                  Delivery.status == DeliveryStatus.pending.value)
                           .order_by(Delivery.pk))
    now = now_micros()
    written: set[int] = set()
    for delivery in rows.all():
        if delivery.status == DeliveryStatus.pending.value:  # not cancelled by a refusal just above
            _apply(session, delivery, outcomes[delivery.pk], now, max_attempts=max_attempts)
            written.add(delivery.pk)
    return written


def _apply(session: Session, delivery: Delivery, outcome: Outcome, now: int, *, max_attempts: int) -> None:
    delivery.leased_by = delivery.leased_until = None
    if outcome.result is Result.postponed:
        delivery.next_at = now - now % HOUR + HOUR
        return
    delivery.attempts += 1
    delivery.last_error = outcome.detail[:1000] or None
    if outcome.result is Result.sent:
        delivery.status, delivery.sent_at = DeliveryStatus.sent.value, now
        if delivery.event_pk is None:  # a digest: the messages it carried went with it
            session.execute(update(Delivery).where(Delivery.digest_pk == delivery.pk)
                            .values(status=DeliveryStatus.bundled.value, sent_at=now))
    elif outcome.result is Result.refused:
        delivery.status = DeliveryStatus.dead.value
        sub = session.get(Subscription, delivery.subscription_pk)
        if sub is not None:
            stop(session, sub, outcome.detail)
    elif delivery.attempts >= max_attempts:
        delivery.status = DeliveryStatus.dead.value
    else:
        delivery.next_at = now + (outcome.retry_after or backoff(delivery.attempts))


def stop(session: Session, sub: Subscription, reason: str) -> None:
    """Disable a subscription and cancel what it had waiting (410 Gone, a bounce)."""
    service.disable(sub, reason)
    session.execute(update(Delivery).where(Delivery.subscription_pk == sub.pk,
                                           Delivery.status.in_([DeliveryStatus.pending.value,
                                                                DeliveryStatus.held.value]))
                    .values(status=DeliveryStatus.cancelled.value, last_error="subscription disabled"))


def backoff(attempts: int) -> int:
    """µs before the next try after ``attempts`` failures: 1 min doubling to 12 h, ±20 % jitter so that
    messages failing together do not retry together. Fifteen attempts span about three days."""
    base = min(FIRST_RETRY << min(max(0, attempts - 1), 20), LONGEST_RETRY)
    return base * 4 // 5 + secrets.randbelow(base * 2 // 5 + 1)


def sent_last_hour(session: Session, org_pks: Sequence[int]) -> dict[int, int]:
    """Messages each organisation got in the past hour, for the hourly cap."""
    since = now_micros() - HOUR
    rows = session.execute(select(Delivery.org_pk, func.count())
                           .where(Delivery.org_pk.in_(org_pks), Delivery.status == DeliveryStatus.sent.value,
                                  Delivery.sent_at >= since)
                           .group_by(Delivery.org_pk))
    return {org_pk: int(count) for org_pk, count in rows}


def replay(session: Session, deliveries: Sequence[Delivery]) -> int:
    """Send dead or cancelled messages again, as new attempts under the same id."""
    pks = [d.pk for d in deliveries if d.status in (DeliveryStatus.dead, DeliveryStatus.cancelled)]
    if not pks:
        return 0
    return rowcount(session.execute(update(Delivery).where(Delivery.pk.in_(pks))
                                    .values(status=DeliveryStatus.pending.value, attempts=0, next_at=now_micros(),
                                            leased_by=None, leased_until=None, last_error=None)))


def purge(session: Session, *, older_than_days: int) -> int:
    """Forget sent and bundled messages older than the retention period."""
    before = now_micros() - older_than_days * 24 * HOUR
    done = (DeliveryStatus.sent.value, DeliveryStatus.bundled.value, DeliveryStatus.cancelled.value)
    return rowcount(session.execute(delete(Delivery)
                                    .where(Delivery.status.in_(done), Delivery.created_at < before)))


def listing(session: Session, org_pk: int, *, status: DeliveryStatus | None, before: int | None,
            limit: int) -> list[Delivery]:
    """An organisation's messages, newest first (dead letters: ``status=dead``); ``before``: the last pk seen."""
    query = select(Delivery).where(Delivery.org_pk == org_pk)
    if status is not None:
        query = query.where(Delivery.status == status.value)
    if before is not None:
        query = query.where(Delivery.pk < before)
    return list(session.scalars(query.order_by(Delivery.pk.desc()).limit(limit)))


def get(session: Session, org_pk: int, pk: int) -> Delivery:
    delivery = session.get(Delivery, pk)
    if delivery is None or delivery.org_pk != org_pk:
        raise NotFound(f"no delivery {pk}")
    return delivery
