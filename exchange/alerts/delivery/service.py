"""Subscriptions: who in an organisation hears about its alerts, how, in which language, and when.

A webhook is checked by the SSRF rule when it is added (and again at every send, ``webhook``) and
comes with a Standard Webhooks secret (``whsec_`` + base64). Rotating adds a new secret and lets the
older ones expire a day later: during that day every message carries one signature per secret, so
the receiver may switch at its own pace.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from collections.abc import Iterable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from exchange.alerts.delivery import ssrf
from exchange.alerts.delivery.models import Category, Channel, Digest, Subscription, WebhookSecret
from exchange.alerts.models import SEVERITY_ORDER, Alert, AlertKind, Severity
from exchange.core.errors import BadRequest, Conflict, NotFound
from exchange.core.settings import Settings
from exchange.core.timestamps import now_micros
from exchange.orgs.models import Org

LANGUAGES = ("en", "fr", "de", "it", "ja")
ROTATION_US = 24 * 3600 * 1_000_000  # how long a replaced secret still signs
SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret
_MIN_SECRET_BYTES = 24
_EMAIL = re.compile(r"^[^@\s<>()\[\],;:\"\\]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")
KIND_CATEGORY = {AlertKind.listed: Category.assets, AlertKind.exposure: Category.assets,
                 AlertKind.lookalike: Category.lookalikes, AlertKind.software: Category.software,
                 AlertKind.sector: Category.sector}


def create(session: Session, org: Org, *, channel: Channel, address: str, settings: Settings,
           secret: str | None = None, language: str = "en", min_severity: Severity = Severity.low,
           digest: Digest = Digest.none, timezone: str = "UTC", digest_hour: int = 8,
           categories: Iterable[Category] = tuple(Category)) -> Subscription:
    """Add a subscription; BadRequest on an unusable address, language, time zone or secret, Conflict on a twin."""
    if language not in LANGUAGES:
        raise BadRequest(f"language must be one of {', '.join(LANGUAGES)}")
    zone(timezone)
    if not 0 <= digest_hour <= 23:
        raise BadRequest("digest_hour is an hour of the day, 0 to 23")
    if channel is Channel.email:
        if secret is not None:
            raise BadRequest("only webhooks have a signing secret")
        address = _email(address)
    else:
        if digest is not Digest.none:
            raise BadRequest("webhooks receive each alert as it happens; digests are for e-mail")
        ssrf.resolve(address, settings.webhook_allowed_hosts)
        if secret is None:
            raise BadRequest("a webhook needs a signing secret (whsec_ followed by base64)")
        check_secret(secret)
    now = now_micros()
    sub = Subscription(org_pk=org.pk, channel=channel.value, address=address, language=language,
                       min_severity=min_severity.value, digest=digest.value, timezone=timezone,
                       digest_hour=digest_hour, categories=_join(categories), created_at=now)
    try:
        with session.begin_nested():
            session.add(sub)
            session.flush()
    except IntegrityError:
        raise Conflict(f"{org.slug} already has the {channel.value} subscription {address}") from None
    if secret is not None:
        session.add(WebhookSecret(subscription_pk=sub.pk, secret=secret, created_at=now))
    return sub


def get_all(session: Session, org: Org) -> list[Subscription]:
    return list(session.scalars(select(Subscription).where(Subscription.org_pk == org.pk).order_by(Subscription.pk)))


def get(session: Session, org: Org, pk: int) -> Subscription:
    """One of ``org``'s subscriptions; another organisation's is a 404, like one that does not exist."""
    sub = session.get(Subscription, pk)
    if sub is None or sub.org_pk != org.pk:
        raise NotFound(f"no subscription {pk}")
    return sub


def delete(session: Session, sub: Subscription) -> None:
    session.delete(sub)


def rotate_secret(session: Session, sub: Subscription, secret: str | None = None) -> str:
    """Add a new signing secret (made here when none is given); the current ones expire in a day."""
    if sub.channel != Channel.webhook:
        raise BadRequest("only webhooks have a signing secret")
    secret = secret or new_secret()
    check_secret(secret)
    now = now_micros()
    for old in active_secrets(session, sub.pk, now=now):
        old.expires_at = now + ROTATION_US
    session.add(WebhookSecret(subscription_pk=sub.pk, secret=secret, created_at=now))
    return secret


def active_secrets(session: Session, subscription_pk: int, *, now: int) -> list[WebhookSecret]:
    """The secrets a message is signed with now, newest first."""
    return list(session.scalars(
        select(WebhookSecret)
        .where(WebhookSecret.subscription_pk == subscription_pk,
               or_(WebhookSecret.expires_at.is_(None), WebhookSecret.expires_at > now))
        .order_by(WebhookSecret.pk.desc())))


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def check_secret(secret: str) -> None:
    body = secret.removeprefix(SECRET_PREFIX)
    try:
        raw = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if not secret.startswith(SECRET_PREFIX) or len(raw) < _MIN_SECRET_BYTES or len(secret) > 200:
        raise BadRequest(f"a signing secret is {SECRET_PREFIX} followed by at least {_MIN_SECRET_BYTES} bytes "
                         "in base64 (exchange makes one when none is given to rotate-secret)")


def categories(sub: Subscription) -> frozenset[Category]:
    return frozenset(Category(c) for c in sub.categories.split(",") if c)


def set_category(sub: Subscription, category: Category, on: bool) -> None:
    chosen = categories(sub)
    sub.categories = _join(chosen | {category} if on else chosen - {category})


def wants(sub: Subscription, alert: Alert) -> bool:
    """Whether this subscription hears about this alert at all (live or in a digest)."""
    return (sub.disabled_at is None and SEVERITY_ORDER[Severity(alert.severity)] >=
            SEVERITY_ORDER[Severity(sub.min_severity)] and KIND_CATEGORY[AlertKind(alert.kind)] in categories(sub))


def disable(sub: Subscription, reason: str) -> None:
    sub.disabled_at, sub.disabled_reason = now_micros(), reason[:500]


def _join(chosen: Iterable[Category]) -> str:
    return ",".join(sorted({Category(c).value for c in chosen}))


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise BadRequest(f"unknown time zone {name!r} (an IANA name such as Europe/Rome)") from None


def _email(address: str) -> str:
    address = address.strip()
    if not _EMAIL.match(address) or len(address) > 320:
        raise BadRequest(f"not an e-mail address: {address!r}")
    local, _, domain = address.rpartition("@")
    return f"{local}@{domain.lower()}"
