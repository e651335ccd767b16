"""Digests: the messages held for a daily or weekly subscription go out together at its local hour.

A digest is itself a delivery (no event; ``digest_due`` is the scheduled time, unique per
subscription, so a period never gets two), and the held deliveries point at it with ``digest_pk``;
from there the dispatcher sends it like any message, with the same retries and the same stable
``Message-ID``. Held rows come only from alert events (created, escalated, cleared), so a digest
holds only new or changed alerts; an alert that changed twice appears once, as it is now.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from exchange.alerts.delivery import service
from exchange.alerts.delivery.models import Delivery, DeliveryStatus, Digest, Subscription
from exchange.core.timestamps import now_micros


def scheduled(sub: Subscription, now_us: int) -> int:
    """The latest time (µs) at or before ``now_us`` this subscription's digest was due, in its time zone."""
    zone = service.zone(sub.timezone)
    local = datetime.fromtimestamp(now_us / 1_000_000, tz=zone)
    due = local.replace(hour=sub.digest_hour, minute=0, second=0, microsecond=0)
    if due > local:
        due -= timedelta(days=1)
    if sub.digest == Digest.weekly:
        due -= timedelta(days=due.weekday())  # Monday
    return int(due.timestamp() * 1_000_000)


def make_due(session: Session) -> int:
    """Create the digests whose hour has come; returns how many. Periods with nothing held send nothing."""
    now = now_micros()
    made = 0
    subs = session.scalars(select(Subscription).where(Subscription.digest != Digest.none.value,
                                                      Subscription.disabled_at.is_(None)))
    for sub in subs:
        due = scheduled(sub, now)
        first = sub.last_digest_at is None  # a new subscription's first digest waits for its hour
        if not first and (sub.last_digest_at or 0) >= due:
            continue
        sub.last_digest_at = due
        if first:
            continue
        held = select(Delivery.pk).where(Delivery.subscription_pk == sub.pk, Delivery.digest_pk.is_(None),
                                         Delivery.status == DeliveryStatus.held.value)
        if session.scalar(held.limit(1)) is None:
            continue
        digest = Delivery(subscription_pk=sub.pk, org_pk=sub.org_pk, digest_due=due, attempts=0,
                          status=DeliveryStatus.pending.value, next_at=now, created_at=now)
        session.add(digest)
        session.flush()
        session.execute(update(Delivery).where(Delivery.pk.in_(held.scalar_subquery())).values(digest_pk=digest.pk))
        made += 1
    return made
