"""One-click answer links: signed, expiring, single-purpose tokens for one (alert, answer).

A token is ``<alert pk>.<answer>.<expiry, seconds since the epoch>.<HMAC-SHA256 of those>`` in URL-safe
base64, signed with the hub's ``alert-links`` key (``HubSecret``, made by migration 0013, shared by every
replica). It carries no secret of the organisation and works without signing in, so it is worth only
what it says: this one answer to this one alert, until it expires. ``GET /a/{token}`` shows a confirm
button and changes nothing (mail scanners follow links); ``POST /a/{token}`` answers through the same
service as the REST API.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from functools import cache

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from exchange.alerts import service
from exchange.alerts.models import Alert, AlertState
from exchange.core.errors import NotFound
from exchange.core.timestamps import now_micros
from exchange.store.models import HubSecret

LIFETIME_DAYS = 30  # long enough for a weekly digest read after a holiday
LINK_ANSWERS = (AlertState.acknowledged, AlertState.fixed, AlertState.false_positive, AlertState.not_ours,
                AlertState.need_help)
_SECONDS = 1_000_000
# Strict ASCII, whole token: ``str.isdigit`` accepts "²" and other Unicode digits that ``int`` refuses, and
# ``hmac.compare_digest`` raises on a non-ASCII ``str``; either turned a mangled link into a 500.
_TOKEN = re.compile(r"([0-9]{1,18})\.([a-z-]{1,32})\.([0-9]{1,12})\.([A-Za-z0-9_-]{43})", re.ASCII)


@cache
def _key(engine: Engine) -> bytes:
    with Session(engine) as session:
        value = session.scalar(select(HubSecret.value).where(HubSecret.name == "alert-links"))
    if not value:
        raise RuntimeError("the alert link key is missing: run `exchange db upgrade`")
    return bytes.fromhex(value)


def _session_key(session: Session) -> bytes:
    bind = session.get_bind()
    return _key(bind if isinstance(bind, Engine) else bind.engine)


def _sign(key: bytes, payload: str) -> str:
    digest = hmac.new(key, payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def token(session: Session, alert_pk: int, state: AlertState, *, expires: int | None = None) -> str:
    """A link token for answering ``state`` to alert ``alert_pk``; ``expires`` in seconds since the epoch."""
    if expires is None:
        expires = now_micros() // _SECONDS + LIFETIME_DAYS * 86_400
    payload = f"{alert_pk}.{state.value}.{expires}"
    return f"{payload}.{_sign(_session_key(session), payload)}"


def answer_urls(session: Session, alert: Alert, base_url: str) -> dict[str, str]:
    """AlertState value -> one-click link (``Message.answer_urls``), valid until the alert's last change plus
    ``LIFETIME_DAYS``: a mail read after a holiday still works, and a link from a long-closed alert does not."""
    expires = max(alert.updated_at, alert.object_modified) // _SECONDS + LIFETIME_DAYS * 86_400
    root = base_url.rstrip("/")
    return {state.value: f"{root}/a/{token(session, alert.pk, state, expires=expires)}" for state in LINK_ANSWERS}


def resolve(session: Session, link: str) -> tuple[Alert, AlertState]:
    """The alert and answer a token stands for; 404 when forged, altered, expired or for a deleted alert
    (one answer for all: a link tells nothing about why it does not work beyond that)."""
    parts = _TOKEN.fullmatch(link)
    if parts is not None:
        pk, answer, expires, signature = parts.groups()
        if hmac.compare_digest(signature.encode(), _sign(_session_key(session), f"{pk}.{answer}.{expires}").encode()):
            if int(expires) * _SECONDS < now_micros():
                raise NotFound("this link has expired; answer from the alert list after signing in")
            alert = session.get(Alert, int(pk))
            if alert is not None and answer in {s.value for s in LINK_ANSWERS}:
                return alert, AlertState(answer)
    raise NotFound("this link is not valid")


def apply(session: Session, link: str) -> Alert:
    alert, state = resolve(session, link)
    return service.answer(session, alert, state)
