"""Tables of the feeds: what to fetch (``feed``), what each run did (``feed_run``) and, for snapshot
feeds, which of a feed's items the last run still saw (``feed_item``).

Credentials are never stored: ``password_env`` names an environment variable of the hub's host that
holds the password or token (decision 0013). Timestamps are µs since the epoch, UTC.
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from exchange.core.columns import BigIntPK, key_string
from exchange.core.db import Base


class Feed(Base):
    __tablename__ = "feed"

    pk: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    name: Mapped[str] = mapped_column(key_string(64), unique=True)
    kind: Mapped[str] = mapped_column(key_string(16))  # a connector's name (connectors.KINDS)
    url: Mapped[str] = mapped_column(String(2048))
    username: Mapped[str | None] = mapped_column(String(200))  # with password_env: Basic; without: Bearer
    password_env: Mapped[str | None] = mapped_column(String(100))
    # The relayer: its objects are published as this organisation (None: as the hub itself).
    owner_org_pk: Mapped[int | None] = mapped_column(ForeignKey("org.pk", ondelete="SET NULL"))
    collection_pk: Mapped[int] = mapped_column(ForeignKey("collection.pk", ondelete="CASCADE"))
    tlp: Mapped[str | None] = mapped_column(String(16))  # applied to objects the source leaves unmarked
    confidence: Mapped[int | None] = mapped_column(Integer)  # applied to SDOs the source gives none
    options: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)  # the connector's own settings
    every_seconds: Mapped[int] = mapped_column(Integer)
    cron: Mapped[str | None] = mapped_column(String(100))  # replaces every_seconds when set (UTC)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    bookmark: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)  # the connector's state
    created_at: Mapped[int] = mapped_column(BigInteger)
    last_run_at: Mapped[int | None] = mapped_column(BigInteger)  # start of the latest run


class FeedRun(Base):
    __tablename__ = "feed_run"

    pk: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    feed_pk: Mapped[int] = mapped_column(ForeignKey("feed.pk", ondelete="CASCADE"), index=True)
    started_at: Mapped[int] = mapped_column(BigInteger)
    ended_at: Mapped[int | None] = mapped_column(BigInteger)
    fetched: Mapped[int] = mapped_column(BigInteger, default=0)
    added: Mapped[int] = mapped_column(BigInteger, default=0)
    duplicates: Mapped[int] = mapped_column(BigInteger, default=0)
    rejected: Mapped[int] = mapped_column(BigInteger, default=0)
    error: Mapped[str | None] = mapped_column(Text)  # why the run stopped; None when it completed
    problems: Mapped[str] = mapped_column(Text, default="")  # the first rejections, one a line


class FeedItem(Base):
    """One object a snapshot feed published, and the last run that still listed it."""

    __tablename__ = "feed_item"

    feed_pk: Mapped[int] = mapped_column(ForeignKey("feed.pk", ondelete="CASCADE"), primary_key=True)
    stix_id: Mapped[str] = mapped_column(key_string(100), primary_key=True)
    seen_run_pk: Mapped[int] = mapped_column(BigInteger, index=True)
    expired: Mapped[bool] = mapped_column(Boolean, default=False)
