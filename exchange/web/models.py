"""Tables of the web portal: browser sessions, one-time sign-in links, a person's language.

Only SHA-256 digests of session ids and link tokens are stored (both are 256-bit random secrets, so a
fast hash is enough, as for API keys): a copy of the database signs nobody in. Timestamps are µs since
the epoch, UTC, like every other table.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from exchange.core.columns import BigIntPK
from exchange.core.db import Base


class WebSession(Base):
    """A signed-in browser. It ends at ``expires_at`` (absolute) or ``idle`` after ``last_seen_at``."""

    __tablename__ = "web_session"

    pk: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_pk: Mapped[int] = mapped_column(ForeignKey("app_user.pk", ondelete="CASCADE"), index=True)
    created_at: Mapped[int] = mapped_column(BigInteger)
    last_seen_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger)


class WebSigninLink(Base):
    """A sign-in link mailed to a user: single use (``used_at``), valid until ``expires_at``."""

    __tablename__ = "web_signin_link"

    pk: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_pk: Mapped[int] = mapped_column(ForeignKey("app_user.pk", ondelete="CASCADE"), index=True)
    created_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger)
    used_at: Mapped[int | None] = mapped_column(BigInteger)


class WebPreference(Base):
    """What a person chose on the settings page; the pages follow Accept-Language until they choose."""

    __tablename__ = "web_preference"

    user_pk: Mapped[int] = mapped_column(ForeignKey("app_user.pk", ondelete="CASCADE"), primary_key=True)
    language: Mapped[str] = mapped_column(String(8))
    updated_at: Mapped[int] = mapped_column(BigInteger)
