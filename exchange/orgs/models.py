"""Organisations, their users, API keys, sharing groups and the audit log."""

from __future__ import annotations

import enum

from sqlalchemy import BigInteger, Enum, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from exchange.core.columns import BigIntPK
from exchange.core.db import Base


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
    # The read rule's "is the reader an admin organisation" and the roster's SMEs in order: without it PostgreSQL
    # scanned every organisation of the hub for each read-rule statement (1.3 ms an inbox page at 10,000).
    __table_args__ = (Index("ix_org_role_pk", "role", "pk"),)

    pk: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    id: Mapped[str] = mapped_column(String(36), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=16))
    # STIX identity the org publishes as (created_by_ref); deterministic from the org id.
    identity_id: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[int] = mapped_column(BigInteger)  # µs since the epoch, UTC

    @property
    def is_hub_admin(self) -> bool:
        """A hub administrator: reads everything, manages every organisation, publishes as anyone."""
        return self.role == Role.admin


class Scope(enum.StrEnum):
    """What a key may do. ``admin`` manages the org's own users, keys and sharing groups; on an admin
    organisation's key it also manages the hub (organisations, audit log)."""

    read = "read"
    write = "write"
    admin = "admin"


ALL_SCOPES = frozenset(Scope)


class UserRole(enum.StrEnum):
    """A person's role inside their organisation; it caps the scopes of that person's keys."""

    owner = "owner"
    member = "member"
    read_only = "read-only"

    @property
    def scopes(self) -> frozenset[Scope]:
        return {UserRole.owner: ALL_SCOPES, UserRole.member: frozenset({Scope.read, Scope.write}),
                UserRole.read_only: frozenset({Scope.read})}[self]


class User(Base):
    """A person in an organisation. The password (argon2) is for the web pages; tools use API keys."""

    __tablename__ = "app_user"  # "user" is reserved in PostgreSQL

    pk: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    org_pk: Mapped[int] = mapped_column(ForeignKey("org.pk", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)  # stored lower-case
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[UserRole] = mapped_column(Enum(UserRole, native_enum=False, length=16,
                                                values_callable=lambda e: [m.value for m in e]))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[int] = mapped_column(BigInteger)
    disabled_at: Mapped[int | None] = mapped_column(BigInteger)


class ApiKey(Base):
    """Only a SHA-256 of the key is kept; ``prefix`` finds the row without scanning hashes.

    Keys are 256-bit random secrets, so a fast hash is enough: there is nothing to brute-force.
    A key belongs to an organisation, and optionally to one of its users (then the user's role caps
    its scopes, and disabling the user disables the key).
    """

    __tablename__ = "api_key"

    pk: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    org_pk: Mapped[int] = mapped_column(ForeignKey("org.pk", ondelete="CASCADE"), index=True)
    user_pk: Mapped[int | None] = mapped_column(ForeignKey("app_user.pk", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[str] = mapped_column(String(32))  # space-separated Scope values
    created_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int | None] = mapped_column(BigInteger)
    revoked_at: Mapped[int | None] = mapped_column(BigInteger)
    last_used_at: Mapped[int | None] = mapped_column(BigInteger)


class SharingGroup(Base):
    """A circle of organisations (an ISAC's members, a CSIRT's constituency) that TLP:AMBER objects
    in the group's collections are shared with. Its owner organisation manages the membership."""

    __tablename__ = "sharing_group"

    pk: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    id: Mapped[str] = mapped_column(String(36), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    owner_org_pk: Mapped[int] = mapped_column(ForeignKey("org.pk", ondelete="RESTRICT"), index=True)
    created_at: Mapped[int] = mapped_column(BigInteger)


class SharingGroupMember(Base):
    """Membership rows; the owner is always stored as a member too, so one join answers "in group?"."""

    __tablename__ = "sharing_group_member"
    __table_args__ = (Index("ix_sharing_group_member_org", "org_pk", "group_pk"),)  # "the groups of an org"

    group_pk: Mapped[int] = mapped_column(ForeignKey("sharing_group.pk", ondelete="CASCADE"), primary_key=True)
    org_pk: Mapped[int] = mapped_column(ForeignKey("org.pk", ondelete="CASCADE"), primary_key=True)


class AuditEntry(Base):
    """Append-only record of writes and administrative actions: who, what, when, from where.

    Database triggers refuse UPDATE and DELETE (migration 0003), and SQLite's REPLACE of an existing
    row and PostgreSQL's TRUNCATE (0009). ``actor`` keeps who acted as text (org slug, and the
    user's e-mail for a user's key, or "cli"), so the record outlives renames.
    """

    __tablename__ = "audit_entry"

    pk: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    at: Mapped[int] = mapped_column(BigInteger, index=True)
    # No foreign key: a cascade would have to UPDATE the row, and the log must outlive what it names.
    org_pk: Mapped[int | None] = mapped_column(BigIntPK)
    actor: Mapped[str] = mapped_column(String(400), default="")
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(300))
    detail: Mapped[str] = mapped_column(Text, default="")
    remote_addr: Mapped[str | None] = mapped_column(String(64))
