"""Pydantic models of the organisation, user, key and audit API."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from exchange.core.text import NUL_ESCAPE, NoNul
from exchange.core.timestamps import from_micros
from exchange.orgs.models import ApiKey, AuditEntry, Org, Role, Scope, User, UserRole
from exchange.orgs.service import IssuedKey, parse_scopes

Name = Annotated[NoNul, StringConstraints(min_length=1, max_length=200)]
_EMAIL = rf"^[^{NUL_ESCAPE}@\s]+@[^{NUL_ESCAPE}@\s]+$"  # one @, no spaces, no NUL


class OrgOut(BaseModel):
    id: str
    slug: str
    name: str
    role: Role
    identity: str = Field(description="STIX identity id the organisation publishes as (created_by_ref)")


class OrgIn(BaseModel):
    name: Name
    role: Role
    slug: Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]{1,48}$")] | None = None


class IssuedKeyOut(BaseModel):
    prefix: str
    api_key: str = Field(description="The key itself: shown this once, stored only as a hash")
    scopes: list[Scope]
    expires: str | None


class CreatedOrgOut(BaseModel):
    org: OrgOut
    key: IssuedKeyOut


class MeOut(BaseModel):
    org: OrgOut
    user: str | None = Field(description="E-mail of the user the key belongs to; null for an organisation key")
    scopes: list[Scope]


class KeyIn(BaseModel):
    scopes: list[Scope] = Field(default=[Scope.read], min_length=1, description="What the key may do")
    expires_in_days: int | None = Field(default=90, ge=1, le=3650, description="null: never expires")
    user: str | None = Field(default=None, max_length=320, description="E-mail of the user who will hold it")
    name: Annotated[NoNul, StringConstraints(max_length=100)] = ""


class KeyOut(BaseModel):
    prefix: str
    name: str
    user: str | None
    scopes: list[Scope]
    created: str
    expires: str | None
    last_used: str | None
    revoked: str | None


class UserIn(BaseModel):
    email: Annotated[str, StringConstraints(min_length=3, max_length=320, pattern=_EMAIL)]
    role: UserRole = UserRole.member
    name: Annotated[NoNul, StringConstraints(max_length=200)] = ""
    password: Annotated[str, StringConstraints(min_length=12, max_length=1000)] | None = None


class UserPatch(BaseModel):
    role: UserRole | None = None
    disabled: bool | None = Field(default=None, description="true disables the user and every key of theirs")


class UserOut(BaseModel):
    email: str
    name: str
    role: UserRole
    created: str
    disabled: str | None


class AuditOut(BaseModel):
    id: int = Field(description="Pass as `before` to continue the listing")
    at: str
    actor: str = Field(description="Organisation slug (and user e-mail), or 'cli' for the hub's command line")
    action: str
    target: str
    detail: str
    remote_addr: str | None


class AuditPageOut(BaseModel):
    entries: list[AuditOut] = Field(description="Newest first")
    more: bool


def org_out(org: Org) -> OrgOut:
    return OrgOut(id=org.id, slug=org.slug, name=org.name, role=org.role, identity=org.identity_id)


def _ts(micros: int | None) -> str | None:
    return from_micros(micros) if micros is not None else None


def issued_out(issued: IssuedKey) -> IssuedKeyOut:
    key = issued.key
    return IssuedKeyOut(prefix=key.prefix, api_key=issued.api_key, scopes=sorted(parse_scopes(key.scopes)),
                        expires=_ts(key.expires_at))


def key_out(key: ApiKey, user: User | None) -> KeyOut:
    return KeyOut(prefix=key.prefix, name=key.name, user=user.email if user else None,
                  scopes=sorted(parse_scopes(key.scopes)), created=from_micros(key.created_at),
                  expires=_ts(key.expires_at), last_used=_ts(key.last_used_at), revoked=_ts(key.revoked_at))


def user_out(user: User) -> UserOut:
    return UserOut(email=user.email, name=user.name, role=user.role, created=from_micros(user.created_at),
                   disabled=_ts(user.disabled_at))


def audit_out(entry: AuditEntry) -> AuditOut:
    return AuditOut(id=entry.pk, at=from_micros(entry.at), actor=entry.actor, action=entry.action,
                    target=entry.target, detail=entry.detail, remote_addr=entry.remote_addr)
