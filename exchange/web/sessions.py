"""Browser sessions and one-time sign-in links. Services take a session and never commit.

A session id is a 256-bit random token sent only in an HttpOnly cookie; the table keeps its SHA-256.
Every sign-in creates a new id (an id planted in the browser before sign-in is never promoted, so no
session fixation), and sign-out deletes the row. A session ends after ``web_session_idle_minutes``
without a page view or ``web_session_hours`` after sign-in, whichever comes first.

The CSRF token of a signed-in form is an HMAC of the session id: bound to the session, nothing to
store, and useless to anyone who cannot read the cookie (docs/decisions/0014-web.md).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from exchange.core.db import PREPARED
from exchange.core.errors import NotFound
from exchange.core.settings import Settings
from exchange.core.timestamps import now_micros
from exchange.notify import smtp
from exchange.orgs import users
from exchange.orgs.models import Org, User
from exchange.web.models import WebPreference, WebSession, WebSigninLink

MINUTE = 60_000_000  # µs
TOUCH_AFTER = MINUTE  # last_seen_at is written at most once a minute: a page view is not a write


@dataclass(frozen=True, slots=True)
class SignedIn:
    """Who a request's session belongs to."""

    user: User
    org: Org
    token: str  # the cookie value, for the CSRF token
    language: str | None = None  # the person's chosen language (``WebPreference``), None: Accept-Language

    @property
    def csrf(self) -> str:
        return csrf_token(self.token)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token(secret: str) -> str:
    """The token forms carry: an HMAC of a cookie the page's origin alone can read."""
    return hmac.new(secret.encode(), b"exchange-web-csrf", hashlib.sha256).hexdigest()


def start(session: Session, user: User, *, settings: Settings) -> str:
    """A new session for ``user``; returns the id for the cookie (never stored)."""
    token = secrets.token_urlsafe(32)
    now = now_micros()
    session.add(WebSession(token_hash=digest(token), user_pk=user.pk, created_at=now, last_seen_at=now,
                           expires_at=now + settings.web_session_hours * 60 * MINUTE))
    session.flush()
    return token


def resume(session: Session, token: str, *, settings: Settings) -> SignedIn | None:
    """The session of a cookie, if it is still valid and its user enabled; an ended one is deleted."""
    if not token or len(token) > 100:
        return None
    # One statement for the session, its person, their organisation and chosen language: every page asks, and
    # four round trips were a third of a small page's time on PostgreSQL. Prepared there (one plan for every
    # token): planning it was 0.3 ms of each page.
    found = session.execute(
        select(WebSession, User, Org, WebPreference.language).join(User, User.pk == WebSession.user_pk)
        .join(Org, Org.pk == User.org_pk).outerjoin(WebPreference, WebPreference.user_pk == User.pk)
        .where(WebSession.token_hash == digest(token)).execution_options(**PREPARED)).first()
    if found is None:
        return None
    row, user, org, language = found
    now = now_micros()
    if (row.expires_at <= now or now - row.last_seen_at > settings.web_session_idle_minutes * MINUTE
            or user.disabled_at is not None):
        session.delete(row)
        return None
    if now - row.last_seen_at > TOUCH_AFTER:
        row.last_seen_at = now
    return SignedIn(user, org, token, language)


def end(session: Session, token: str) -> None:
    session.execute(delete(WebSession).where(WebSession.token_hash == digest(token)))


def by_password(session: Session, email: str, password: str) -> User | None:
    """The user with this e-mail and password; None for any mismatch (which one is not said)."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    return user if users.verify_password(user, password) else None  # as slow without a user (see there)


def mail_link(session: Session, email: str, *, settings: Settings, subject: str, body: str) -> bool:
    """Mail a one-time sign-in link to ``email`` if it is an enabled user's; ``body`` holds ``{link}``.
    Returns whether a mail went out, for the log only: the page says the same either way, so the
    form cannot be used to find out who has an account."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None or user.disabled_at is not None:
        return False
    token = secrets.token_urlsafe(32)
    now = now_micros()
    session.add(WebSigninLink(token_hash=digest(token), user_pk=user.pk, created_at=now,
                              expires_at=now + settings.web_link_minutes * MINUTE))
    session.flush()
    link = f"{settings.base_url.rstrip('/')}/signin/link/{token}"
    smtp.send(settings.smtp_url, sender=settings.smtp_from, to=user.email, subject=subject,
              body=body.replace("{link}", link))
    return True


def pending_link(session: Session, token: str) -> WebSigninLink:
    row = session.scalar(select(WebSigninLink).where(WebSigninLink.token_hash == digest(token))) \
        if len(token) < 100 else None
    if row is None or row.used_at is not None or row.expires_at <= now_micros():
        raise NotFound("this sign-in link is unknown, used or expired; ask for a new one")
    return row


def redeem_link(session: Session, token: str) -> User:
    """Spend a link (once): its user, if still enabled."""
    row = pending_link(session, token)
    row.used_at = now_micros()
    user = session.get(User, row.user_pk)
    if user is None or user.disabled_at is not None:
        raise NotFound("this sign-in link is unknown, used or expired; ask for a new one")
    return user

