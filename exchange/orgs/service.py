"""Organisations and API keys: create, list, rotate, and resolve a presented key to its org."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import uuid
from typing import NamedTuple

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from exchange.errors import Conflict, NotFound
from exchange.orgs.models import ApiKey, Org, Role
from exchange.stix.timestamps import now_micros

KEY_SCHEME = "exk"
_IDENTITY_NAMESPACE = uuid.UUID("5baa856b-fee6-42ce-83e3-4037cc299826")
_LAST_USED_RESOLUTION_US = 60_000_000  # touch last_used_at at most once a minute per key
_SLUG_JUNK = re.compile(r"[^a-z0-9]+")


class IssuedKey(NamedTuple):
    org: Org
    api_key: str  # the only time the plaintext exists


def slugify(name: str) -> str:
    slug = _SLUG_JUNK.sub("-", name.lower()).strip("-")[:48]
    return slug or "org"


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _new_key(session: Session, org: Org) -> str:
    prefix = secrets.token_hex(6)
    key = f"{KEY_SCHEME}_{prefix}_{secrets.token_urlsafe(32)}"
    session.add(ApiKey(org_pk=org.pk, prefix=prefix, hash=_hash(key), created_at=now_micros()))
    return key


def create(session: Session, *, name: str, role: Role, slug: str | None = None) -> IssuedKey:
    slug = slugify(slug or name)
    if session.scalar(select(Org.pk).where(Org.slug == slug)) is not None:
        raise Conflict(f"an organisation with slug {slug!r} already exists")
    org_id = str(uuid.uuid4())
    org = Org(
        id=org_id,
        name=name,
        slug=slug,
        role=role,
        identity_id=f"identity--{uuid.uuid5(_IDENTITY_NAMESPACE, org_id)}",
        created_at=now_micros(),
    )
    session.add(org)
    session.flush()
    return IssuedKey(org, _new_key(session, org))


def get_all(session: Session) -> list[Org]:
    return list(session.scalars(select(Org).order_by(Org.slug)))


def get_by_slug(session: Session, slug: str) -> Org:
    org = session.scalar(select(Org).where(Org.slug == slug))
    if org is None:
        raise NotFound(f"no organisation with slug {slug!r}")
    return org


def rotate_key(session: Session, *, slug: str) -> IssuedKey:
    """Revoke every live key of the org and issue a fresh one."""
    org = get_by_slug(session, slug)
    session.execute(
        update(ApiKey).where(ApiKey.org_pk == org.pk, ApiKey.revoked_at.is_(None)).values(revoked_at=now_micros())
    )
    return IssuedKey(org, _new_key(session, org))


def authenticate(session: Session, key: str, *, slug: str | None = None) -> Org | None:
    """The org a presented key belongs to, or None. With ``slug`` (HTTP Basic) it must match too."""
    scheme, _, rest = key.partition("_")
    prefix, _, _secret = rest.partition("_")
    if scheme != KEY_SCHEME or not prefix:
        return None
    row = session.execute(
        select(ApiKey, Org).join(Org, Org.pk == ApiKey.org_pk).where(ApiKey.prefix == prefix)
    ).first()
    if row is None:
        return None
    api_key, org = row
    if not hmac.compare_digest(api_key.hash, _hash(key)) or api_key.revoked_at is not None:
        return None
    if slug is not None and not hmac.compare_digest(org.slug.encode(), slug.encode()):
        return None
    now = now_micros()
    if api_key.last_used_at is None or now - api_key.last_used_at > _LAST_USED_RESOLUTION_US:
        api_key.last_used_at = now
    return org


def local_operator() -> Org:
    """Whoever runs the CLI on the hub's host: it can read the database anyway, so it reads as admin.

    A transient object, never stored; only its role matters to the access rules.
    """
    return Org(pk=0, id="local", name="local operator", slug="local-operator", role=Role.admin,
               identity_id="", created_at=0)
