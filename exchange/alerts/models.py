"""Tables of alerts: one row per (organisation, object, what it matched), and the events delivery reads.

An ``alert`` is what one organisation must hear about one published object: the object's id and the
version that last changed what the organisation must do (``object_modified``), the asset it touched
(none for a sector advisory), the kind, severity, the source's confidence in words and the state the
organisation answered. ``match_key`` makes "alerts once" a unique constraint instead of a check:
the asset's pk, or ``sector:<letter>`` for an advisory that reached the organisation by its sector.

``alert_event`` is the transactional outbox: every change an organisation must be told about
(created, escalated, cleared) is written in the same transaction as the alert row it describes, and
delivery fans events out to subscriptions, marking ``dispatched_at``; an event is never lost with a
crash and never fanned out twice (the fan-out and the mark are one transaction).

Timestamps are µs since the epoch, UTC, like every other table.
"""

from __future__ import annotations

import enum

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, String, UniqueConstraint, false, text
from sqlalchemy.orm import Mapped, mapped_column

from exchange.core.columns import BigIntPK, key_string
from exchange.core.db import Base


class AlertKind(enum.StrEnum):
    listed = "listed"  # our domain, address, URL or mail domain appears in an indicator
    lookalike = "lookalike"  # a domain that imitates one of ours was published
    software = "software"  # software we run has a (known-exploited) vulnerability
    exposure = "exposure"  # a CSIRT's scan found something exposed on our address
    sector = "sector"  # an advisory for our sector


class Severity(enum.StrEnum):
    info = "info"
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"


SEVERITY_ORDER = {s: i for i, s in enumerate(Severity)}


class SourceGrade(enum.StrEnum):
    """How sure the source is, in the words of the Admiralty scale that STIX 2.1 maps ``confidence`` to."""

    confirmed = "confirmed"
    probable = "probable"
    possible = "possible"
    doubtful = "doubtful"
    improbable = "improbable"
    unknown = "unknown"


class AlertState(enum.StrEnum):
    new = "new"
    acknowledged = "acknowledged"
    fixed = "fixed"
    false_positive = "false-positive"
    not_ours = "not-ours"
    accepted_risk = "accepted-risk"
    need_help = "need-help"
    cleared = "cleared"  # the object was revoked or expired: all clear (set by the hub, not an answer)


class AlertEventType(enum.StrEnum):
    created = "created"
    escalated = "escalated"  # a new version changed what to do (severity rose, new action)
    cleared = "cleared"


class Alert(Base):
    __tablename__ = "alert"
    __table_args__ = (
        UniqueConstraint("org_pk", "object_id", "match_key"),
        Index("ix_alert_org_state", "org_pk", "state", "pk"),
        Index("ix_alert_org_pk", "org_pk", "pk"),  # the inbox's "all" view, newest first, a page at a time
        Index("ix_alert_object", "object_id"),
        Index("ix_alert_publisher_created", "publisher_org_pk", "created_at"),
    )

    pk: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    # No index of its own: the unique (org_pk, object_id, match_key) starts with it.
    org_pk: Mapped[int] = mapped_column(ForeignKey("org.pk", ondelete="CASCADE"))
    asset_pk: Mapped[int | None] = mapped_column(ForeignKey("asset.pk", ondelete="SET NULL"), index=True)
    match_key: Mapped[str] = mapped_column(key_string(64))  # asset pk, or "sector:<NACE letter>"
    object_id: Mapped[str] = mapped_column(key_string(100))  # the STIX id
    object_modified: Mapped[int] = mapped_column(BigInteger)  # µs: the version that last alerted
    # org.pk of the organisation that published that version: a producer's alerts of the week are a range of
    # one index (the dashboard), not a probe of the object table per alert of the hub
    publisher_org_pk: Mapped[int | None] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(key_string(16))  # an AlertKind value
    severity: Mapped[str] = mapped_column(key_string(8))  # a Severity value
    grade: Mapped[str] = mapped_column(key_string(16))  # a SourceGrade value
    state: Mapped[str] = mapped_column(key_string(16))  # an AlertState value
    matched: Mapped[str] = mapped_column(String(1024))  # the value that matched (observable or domain)
    created_at: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)
    answered_at: Mapped[int | None] = mapped_column(BigInteger)
    # The asset was not verified (or its verification expired) when the object matched: the organisation
    # is only asked to verify it, and nothing about the object is shown until it is (decision 0011).
    withheld: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class AlertEvent(Base):
    __tablename__ = "alert_event"
    __table_args__ = (
        Index("ix_alert_event_pending", "pk", sqlite_where=text("dispatched_at IS NULL"),
              postgresql_where=text("dispatched_at IS NULL")),
    )

    pk: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    alert_pk: Mapped[int] = mapped_column(ForeignKey("alert.pk", ondelete="CASCADE"), index=True)
    org_pk: Mapped[int] = mapped_column(ForeignKey("org.pk", ondelete="CASCADE"), index=True)
    type: Mapped[str] = mapped_column(key_string(16))  # an AlertEventType value
    created_at: Mapped[int] = mapped_column(BigInteger)
    dispatched_at: Mapped[int | None] = mapped_column(BigInteger)


class MatchCursor(Base):
    """How far matching has read ``stix_object``: every row with ``pk <= last_pk`` has been matched.

    One row (``name`` "stix_object"); the matching job moves it in the transaction that writes the
    alerts, so a crash loses neither, and the job locks it first, so two runs never match one row twice.
    """

    __tablename__ = "alert_cursor"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_pk: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)


class Suppression(Base):
    """An organisation answered "false positive" or "not ours" about ``matched`` for one asset: that value
    never alerts about that asset again, whichever object names it."""

    __tablename__ = "alert_suppression"

    org_pk: Mapped[int] = mapped_column(ForeignKey("org.pk", ondelete="CASCADE"), primary_key=True)
    asset_pk: Mapped[int] = mapped_column(ForeignKey("asset.pk", ondelete="CASCADE"), primary_key=True)
    matched: Mapped[str] = mapped_column(key_string(1024), primary_key=True)
    state: Mapped[str] = mapped_column(key_string(16))  # the answer that suppressed it
    created_at: Mapped[int] = mapped_column(BigInteger)
