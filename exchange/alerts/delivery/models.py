"""Tables of delivery: subscriptions, their webhook signing secrets, and one ``delivery`` row per message.

A ``delivery`` is one (alert event, subscription) pair: the unique constraint on the pair is what
makes the fan-out idempotent, and its ``pk`` is the message's identity on the wire (``webhook-id``,
the ``Message-ID`` of the mail), so a message sent again after a crash carries the same id.
A digest is a delivery without an event; the deliveries it carries point to it with ``digest_pk``.

Timestamps are µs since the epoch, UTC, like every other table.
"""

from __future__ import annotations

import enum

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from exchange.core.columns import BigIntPK, key_string
from exchange.core.db import Base


class Channel(enum.StrEnum):
    email = "email"
    webhook = "webhook"


class Digest(enum.StrEnum):
    none = "none"  # each alert as it happens
    daily = "daily"
    weekly = "weekly"  # Mondays


class Category(enum.StrEnum):
    """What a subscriber may switch off; each alert kind belongs to one."""

    assets = "assets"  # our domains, addresses and exposed services are named
    lookalikes = "lookalikes"
    software = "software"
    sector = "sector"


class DeliveryStatus(enum.StrEnum):
    pending = "pending"  # due at ``next_at``, to be claimed by a worker
    held = "held"  # waits for its subscription's next digest
    bundled = "bundled"  # went out inside the digest ``digest_pk``
    sent = "sent"
    dead = "dead"  # retries exhausted or refused for good: visible, replayable
    cancelled = "cancelled"  # the subscription was disabled (410 Gone, bounce) or the category switched off


class Subscription(Base):
    __tablename__ = "subscription"
    __table_args__ = (UniqueConstraint("org_pk", "channel", "address"),)

    pk: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    org_pk: Mapped[int] = mapped_column(ForeignKey("org.pk", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(key_string(8))  # a Channel value
    address: Mapped[str] = mapped_column(String(2048))  # e-mail address or https URL
    language: Mapped[str] = mapped_column(String(8))
    min_severity: Mapped[str] = mapped_column(key_string(8))  # a Severity value
    digest: Mapped[str] = mapped_column(key_string(8))  # a Digest value
    timezone: Mapped[str] = mapped_column(String(64))  # IANA name: digests go out at digest_hour there
    digest_hour: Mapped[int] = mapped_column(Integer)
    categories: Mapped[str] = mapped_column(String(64))  # the Category values switched on, comma-separated
    consented_at: Mapped[int | None] = mapped_column(BigInteger)  # webhooks: the OPTIONS handshake passed
    disabled_at: Mapped[int | None] = mapped_column(BigInteger)
    disabled_reason: Mapped[str | None] = mapped_column(String(500))
    bounced_at: Mapped[int | None] = mapped_column(BigInteger)  # e-mail: refused for good (5xx or DSN 5.x.x)
    last_digest_at: Mapped[int | None] = mapped_column(BigInteger)  # the scheduled time of the last digest
    created_at: Mapped[int] = mapped_column(BigInteger)


class WebhookSecret(Base):
    """A signing secret of a webhook. Several are valid during a rotation: each message is signed with all.

    Kept as given, not hashed: signing needs the secret itself (Standard Webhooks is HMAC); the API
    never returns it."""

    __tablename__ = "webhook_secret"

    pk: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    subscription_pk: Mapped[int] = mapped_column(ForeignKey("subscription.pk", ondelete="CASCADE"), index=True)
    secret: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int | None] = mapped_column(BigInteger)  # set when a newer secret replaces it


class Delivery(Base):
    __tablename__ = "delivery"
    __table_args__ = (
        UniqueConstraint("event_pk", "subscription_pk"),
        UniqueConstraint("subscription_pk", "digest_due"),
        Index("ix_delivery_due", "next_at", sqlite_where=text("status = 'pending'"),
              postgresql_where=text("status = 'pending'")),
        Index("ix_delivery_org_status", "org_pk", "status", "pk"),
    )

    pk: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    event_pk: Mapped[int | None] = mapped_column(ForeignKey("alert_event.pk", ondelete="CASCADE"))  # None: a digest
    subscription_pk: Mapped[int] = mapped_column(ForeignKey("subscription.pk", ondelete="CASCADE"))
    org_pk: Mapped[int] = mapped_column(ForeignKey("org.pk", ondelete="CASCADE"))
    alert_pk: Mapped[int | None] = mapped_column(ForeignKey("alert.pk", ondelete="CASCADE"), index=True)
    digest_pk: Mapped[int | None] = mapped_column(ForeignKey("delivery.pk", ondelete="SET NULL"), index=True)
    digest_due: Mapped[int | None] = mapped_column(BigInteger)  # a digest: its scheduled time (one per period)
    status: Mapped[str] = mapped_column(key_string(16))  # a DeliveryStatus value
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_at: Mapped[int] = mapped_column(BigInteger)
    leased_by: Mapped[str | None] = mapped_column(String(200))  # host:pid of the worker sending it
    leased_until: Mapped[int | None] = mapped_column(BigInteger)
    sent_at: Mapped[int | None] = mapped_column(BigInteger)
    last_error: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[int] = mapped_column(BigInteger)
