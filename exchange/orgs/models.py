"""Organisations and their API keys."""

from __future__ import annotations

import enum

from sqlalchemy import BigInteger, Enum, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from exchange.db import Base
from exchange.types import BigIntPK


class Role(enum.StrEnum):
    csirt = "csirt"
    isac = "isac"
    sme = "sme"
    admin = "admin"

    @property
    def can_publish(self) -> bool:
        return self in (Role.csirt, Role.isac, Role.admin)


class Org(Base):
    __tablename__ = "org"

    pk: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    id: Mapped[str] = mapped_column(String(36), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=16))
    # STIX identity the org publishes as (created_by_ref); deterministic from the org id.
    identity_id: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[int] = mapped_column(BigInteger)  # µs since the epoch, UTC


class ApiKey(Base):
    """Only a SHA-256 of the key is kept; ``prefix`` finds the row without scanning hashes.

    Keys are 256-bit random secrets, so a fast hash is enough: there is nothing to brute-force.
    """

    __tablename__ = "api_key"

    pk: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    org_pk: Mapped[int] = mapped_column(ForeignKey("org.pk", ondelete="CASCADE"), index=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[int] = mapped_column(BigInteger)
    revoked_at: Mapped[int | None] = mapped_column(BigInteger)
    last_used_at: Mapped[int | None] = mapped_column(BigInteger)


class AuditEntry(Base):
    """Append-only record of writes and administrative actions: who, what, when, from where."""

    __tablename__ = "audit_entry"

    pk: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    at: Mapped[int] = mapped_column(BigInteger, index=True)
    org_pk: Mapped[int | None] = mapped_column(ForeignKey("org.pk", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(300))
    detail: Mapped[str] = mapped_column(Text, default="")
    remote_addr: Mapped[str | None] = mapped_column(String(64))
