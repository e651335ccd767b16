"""People inside organisations. Passwords are argon2 hashes (argon2-cffi's defaults, RFC 9106's
recommended profile) for the web pages; tools and scripts use API keys."""

from __future__ import annotations

import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from exchange.core.errors import BadRequest, Conflict, NotFound
from exchange.core.timestamps import now_micros
from exchange.orgs.models import Org, User, UserRole

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 12


def create(session: Session, org: Org, *, email: str, role: UserRole, name: str = "",
           password: str | None = None) -> User:
    email = email.strip().lower()
    if "@" not in email or len(email) > 320:
        raise BadRequest(f"{email!r} is not an e-mail address")
    if session.scalar(select(User.pk).where(User.email == email)) is not None:
        raise Conflict(f"a user with e-mail {email!r} already exists")
    user = User(org_pk=org.pk, email=email, name=name, role=role, created_at=now_micros(),
                password_hash=_hash_password(password) if password is not None else None)
    session.add(user)
    session.flush()
    return user


def _hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise BadRequest(f"a password has at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def verify_password(user: User | None, password: str) -> bool:
    """Constant-time by argon2's construction. Nobody (``None``), a disabled user and one without a
    password never pass, and cost one argon2 check all the same: otherwise a wrong password would take
    0.1 s for an account and nothing for an unknown address, and the sign-in form's timing would tell
    who has an account, whatever its message says."""
    if user is None or user.password_hash is None or user.disabled_at is not None:
        _check(_nobodys_hash(), password)
        return False
    if not _check(user.password_hash, password):
        return False
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return True


def _check(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@cache
def _nobodys_hash() -> str:
    """A hash no typed password matches, made on first use (a hash costs what a check does, and most
    commands never check a password)."""
    return _hasher.hash(secrets.token_urlsafe(32))


def get(session: Session, org: Org, email: str) -> User:
    user = session.scalar(select(User).where(User.org_pk == org.pk, User.email == email.strip().lower()))
    if user is None:
        raise NotFound(f"no user {email!r} in organisation {org.slug!r}")
    return user


def of_org(session: Session, org: Org) -> list[User]:
    return list(session.scalars(select(User).where(User.org_pk == org.pk).order_by(User.email)))


def set_role(user: User, role: UserRole) -> None:
    """Takes effect at once: key scopes are capped by the role at every authentication."""
    user.role = role


def disable(user: User) -> None:
    """The user's keys stop working at once; the row stays for the audit trail."""
    if user.disabled_at is None:
        user.disabled_at = now_micros()


def set_password(user: User, password: str) -> None:
    """A new password (same length rule as ``create``); the web sessions it opened stay until they expire."""
    user.password_hash = _hash_password(password)
