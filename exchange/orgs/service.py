"""Organisations and API keys: create, list, issue, rotate, revoke, and resolve a presented key to
the principal it stands for."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata
import uuid
from typing import NamedTuple

from anyascii import anyascii
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from exchange.core.errors import BadRequest, Conflict, Forbidden, NotFound
from exchange.core.timestamps import now_micros
from exchange.orgs.models import ALL_SCOPES, ApiKey, Org, Role, Scope, User

KEY_SCHEME = "exk"
_IDENTITY_NAMESPACE = uuid.UUID("5baa856b-fee6-42ce-83e3-4037cc299826")
_LAST_USED_RESOLUTION_US = 60_000_000  # touch last_used_at at most once a minute per key
_DAY_US = 86_400_000_000
FIRST_KEY_DAYS = 90  # like every other key: a forgotten first key must not stay valid for ever
_SLUG_JUNK = re.compile(r"[^a-z0-9]+")


class IssuedKey(NamedTuple):
    org: Org
    api_key: str  # the only time the plaintext exists
    key: ApiKey


class Principal(NamedTuple):
    """Who is calling: the organisation (what the access rules are about), the user when the key is
    a person's, and what the key may do."""

    org: Org
    user: User | None
    scopes: frozenset[Scope]

    @property
    def actor(self) -> str:
        """How the audit log names the caller."""
        return f"{self.org.slug}/{self.user.email}" if self.user is not None else self.org.slug

    def require(self, scope: Scope) -> None:
        if scope not in self.scopes:
            raise Forbidden(f"this API key lacks the {scope.value!r} scope")


def slugify(name: str) -> str:
    """An ASCII login name for HTTP Basic, transliterated so no letter is lost ("Bäckerei Müller" →
    ``backerei-muller``, "東京" → ``dong-jing``). anyascii ships its tables in the wheel, so nothing is
    downloaded at run time. Each Han ideograph is a syllable of its own, so it becomes a word of its
    own; anyascii would otherwise run them together ("DongJing")."""
    words = "".join(f" {anyascii(c)} " if unicodedata.name(c, "").startswith("CJK") else c for c in name)
    slug = _SLUG_JUNK.sub("-", anyascii(words).lower()).strip("-")[:48].strip("-")
    return slug or "org"


def parse_scopes(text: str) -> frozenset[Scope]:
    try:
        return frozenset(Scope(s) for s in text.replace(",", " ").split())
    except ValueError:
        raise BadRequest(f"scopes are some of {', '.join(s.value for s in Scope)}; got {text!r}") from None


def format_scopes(scopes: frozenset[Scope]) -> str:
    return " ".join(s.value for s in Scope if s in scopes)


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def issue_key(session: Session, org: Org, *, user: User | None = None, scopes: frozenset[Scope] = ALL_SCOPES,
              expires_in_days: int | None = None, name: str = "") -> IssuedKey:
    """A new key. A user's key may not carry more than the user's role allows."""
    if not scopes:
        raise BadRequest("a key needs at least one scope")
    if user is not None and not scopes <= user.role.scopes:
        raise Forbidden(f"a {user.role.value} may hold only {format_scopes(user.role.scopes)!r} keys")
    if expires_in_days is not None and expires_in_days < 1:
        raise BadRequest("a key expires at least one day after it is issued")
    prefix = secrets.token_hex(6)
    plaintext = f"{KEY_SCHEME}_{prefix}_{secrets.token_urlsafe(32)}"
    now = now_micros()
    row = ApiKey(org_pk=org.pk, user_pk=user.pk if user is not None else None, name=name, prefix=prefix,
                 hash=_hash(plaintext), scopes=format_scopes(scopes), created_at=now,
                 expires_at=now + expires_in_days * _DAY_US if expires_in_days is not None else None)
    session.add(row)
    session.flush()
    return IssuedKey(org, plaintext, row)


def create(session: Session, *, name: str, role: Role, slug: str | None = None,
           expires_in_days: int | None = FIRST_KEY_DAYS, key_name: str = "first key") -> IssuedKey:
    """A new organisation and its first key. The key has every scope, admin included, so the
    organisation can manage its own users and keys without the hub operator; it expires like any
    other key (``expires_in_days=None``: never)."""
    org = create_org(session, name=name, role=role, slug=slug)
    return issue_key(session, org, name=key_name, expires_in_days=expires_in_days)


def create_org(session: Session, *, name: str, role: Role, slug: str | None = None) -> Org:
    """A new organisation without a key: one onboarded on the web signs in as a person and needs none."""
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
    return org


def get_all(session: Session) -> list[Org]:
    return list(session.scalars(select(Org).order_by(Org.slug)))


def get_page(session: Session, *, after: str | None = None, limit: int) -> list[Org]:
    """Organisations by slug, ``limit`` of them after the slug ``after``: a hub has thousands of SMEs."""
    query = select(Org).order_by(Org.slug).limit(limit)
    return list(session.scalars(query.where(Org.slug > after) if after else query))


def get_by_slug(session: Session, slug: str) -> Org:
    org = session.scalar(select(Org).where(Org.slug == slug))
    if org is None:
        raise NotFound(f"no organisation with slug {slug!r}")
    return org


def keys_of(session: Session, org: Org) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).where(ApiKey.org_pk == org.pk).order_by(ApiKey.pk)))


def prefix_of(text: str) -> str:
    """The prefix of a key given either as its prefix or as the whole key (``exk_<prefix>_<secret>``),
    so that people may paste what they hold without the secret ending up in output or logs."""
    scheme, _, rest = text.partition("_")
    return rest.partition("_")[0] if scheme == KEY_SCHEME and rest else text


def key_by_prefix(session: Session, org: Org, prefix: str) -> ApiKey:
    prefix = prefix_of(prefix)
    key = session.scalar(select(ApiKey).where(ApiKey.org_pk == org.pk, ApiKey.prefix == prefix))
    if key is None:
        raise NotFound(f"no API key {prefix!r} in organisation {org.slug!r}")
    return key


def revoke_key(session: Session, key: ApiKey) -> None:
    if key.revoked_at is None:
        key.revoked_at = now_micros()


def rotate_key(session: Session, *, slug: str, prefix: str | None = None) -> IssuedKey:
    """Replace one key (``prefix``) by a new one with the same owner, scopes and lifetime; without a
    prefix, revoke every live organisation-level key and issue one full key."""
    org = get_by_slug(session, slug)
    if prefix is None:
        session.execute(update(ApiKey).where(ApiKey.org_pk == org.pk, ApiKey.user_pk.is_(None),
                                             ApiKey.revoked_at.is_(None)).values(revoked_at=now_micros()))
        return issue_key(session, org, name="rotated")
    old = key_by_prefix(session, org, prefix)
    if old.revoked_at is not None or (old.expires_at is not None and old.expires_at <= now_micros()):
        raise Conflict(f"key {prefix!r} is revoked or expired: issue a new key instead")
    revoke_key(session, old)
    user = session.get(User, old.user_pk) if old.user_pk is not None else None
    lifetime = old.expires_at - old.created_at if old.expires_at is not None else None
    return issue_key(session, org, user=user, scopes=parse_scopes(old.scopes), name=old.name,
                     expires_in_days=max(1, lifetime // _DAY_US) if lifetime is not None else None)


def authenticate(session: Session, key: str, *, slug: str | None = None) -> Principal | None:
    """Who a presented key stands for, or None (unknown, revoked, expired, or its user disabled).
    With ``slug`` (HTTP Basic) the organisation must match too."""
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
    now = now_micros()
    if not hmac.compare_digest(api_key.hash, _hash(key)) or api_key.revoked_at is not None:
        return None
    if api_key.expires_at is not None and api_key.expires_at <= now:
        return None
    if slug is not None and not hmac.compare_digest(org.slug.encode(), slug.encode()):
        return None
    user = session.get(User, api_key.user_pk) if api_key.user_pk is not None else None
    if user is not None and user.disabled_at is not None:
        return None
    scopes = parse_scopes(api_key.scopes)
    if user is not None:
        scopes &= user.role.scopes  # a demoted user's old keys lose what the new role does not allow
    if api_key.last_used_at is None or now - api_key.last_used_at > _LAST_USED_RESOLUTION_US:
        api_key.last_used_at = now
    return Principal(org, user, scopes)


def local_operator() -> Org:
    """Whoever runs the CLI on the hub's host: it can read the database anyway, so it reads as admin.

    A transient object, never stored; only its role matters to the access rules.
    """
    return Org(pk=0, id="local", name="local operator", slug="local-operator", role=Role.admin,
               identity_id="", created_at=0)


def community_member() -> Org:
    """A member organisation with no group, grant, recipient naming or publication of its own: it
    reads exactly what every member may read (CLEAR and GREEN in collections open to all members).

    Transient, never stored (no real organisation has primary key -1); exports use it by default so
    that what they write may be passed on to any member without leaking what only some may read.
    """
    return Org(pk=-1, id="community", name="any member", slug="any-member", role=Role.sme, identity_id="",
               created_at=0)
