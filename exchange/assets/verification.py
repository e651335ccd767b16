"""Proving an organisation owns an asset, and keeping that proof fresh.

Which methods fit which kind of asset: names (domain, mail domain, a URL's host) by a DNS TXT record,
a file or <meta> tag on the web site, or a link mailed to security@ or postmaster@ the domain; IP
addresses, ranges and AS numbers by a link mailed to the abuse contact RDAP names; any asset by the
approval of a csirt or admin organisation. Software needs none (``service.SELF_EVIDENT``).

A mailed link is a 256-bit random token; only its SHA-256 is stored, with an expiry, and it is spent
when used, so it is unforgeable, single use and expiring without a signing key to keep.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from exchange.assets import checks, service
from exchange.assets.models import Asset, AssetKind, VerificationMethod
from exchange.core.errors import BadRequest, NotFound, TooManyRequests
from exchange.core.settings import Settings
from exchange.core.timestamps import HOUR, now_micros
from exchange.notify import smtp
from exchange.orgs.models import Org

MAILBOXES = ("security", "postmaster")  # RFC 2142 role addresses only: any other mailbox proves nothing
CONFIRM_PATH = "/api/v1/assets/confirm/"
RECHECK_WINDOW = 30 * service.DAY  # re-check verifications that expire within this
RESEND_AFTER = 10 * 60 * 1_000_000  # one mailed link per asset per 10 minutes: the hub is no mail cannon


@dataclass(frozen=True, slots=True)
class Outcome:
    verified: bool
    detail: str
    sent_to: str | None = None


def host_of(asset: Asset) -> str:
    """The name a DNS, web or mail check asks about: the domain itself, or a URL's host."""
    if asset.kind == AssetKind.url.value:
        host = urlsplit(asset.value).hostname or ""
        if not host or ":" in host or host[-1].isdigit():
            raise BadRequest("a URL on an IP address is verified by approval only")
        return host
    return asset.value


def verify(session: Session, asset: Asset, method: VerificationMethod, *, settings: Settings, caller: Org | None,
           mailbox: str = "security") -> Outcome:
    """Try ``method`` now. DNS and web checks answer at once; mail methods send a link and answer
    "not yet"; approval needs a csirt or admin ``caller`` (None: the hub's command line)."""
    kind = AssetKind(asset.kind)
    if method not in service.methods(kind):
        allowed = ", ".join(sorted(m.value for m in service.methods(kind)))
        raise BadRequest(f"a {kind.value} asset cannot be verified by {method.value}; use one of: {allowed}")
    asset.checked_at = now_micros()
    if method == VerificationMethod.approval:
        service.approve(asset, caller, settings=settings)
        return Outcome(True, f"approved by {caller.slug if caller else 'the hub operator'}")
    if method in (VerificationMethod.dns, VerificationMethod.http):
        check = checks.dns_txt if method == VerificationMethod.dns else checks.web_file
        found = check(host_of(asset), asset.challenge, settings)
        if found.ok:
            service.mark_verified(asset, method, settings=settings)
        return Outcome(found.ok, found.detail)
    if method == VerificationMethod.email:
        if mailbox not in MAILBOXES:
            raise BadRequest(f"the confirmation link goes to {' or '.join(MAILBOXES)}@ the domain only")
        address = f"{mailbox}@{host_of(asset)}"
    else:
        found = checks.rdap_abuse_email("autnum" if kind == AssetKind.asn else "ip", asset.value, settings)
        if not found.ok:
            return Outcome(False, found.detail)
        address = found.detail
    send_link(asset, address, settings=settings)
    return Outcome(False, f"confirmation link sent to {address}", sent_to=address)


def send_link(asset: Asset, address: str, *, settings: Settings) -> None:
    if "@" not in address or any(c in address for c in "\r\n<>,; "):
        raise BadRequest(f"{address[:100]!r} is not a usable e-mail address")
    now = now_micros()
    sent_at = (asset.link_expires_at or 0) - settings.assets_link_hours * HOUR
    if asset.link_hash is not None and now - sent_at < RESEND_AFTER:
        wait = (sent_at + RESEND_AFTER - now) // 1_000_000 + 1
        raise TooManyRequests(f"a link went to {asset.link_sent_to} moments ago; ask again in {wait} s",
                              retry_after=wait)
    token = secrets.token_urlsafe(32)
    asset.link_hash = _hash(token)
    asset.link_expires_at = now + settings.assets_link_hours * HOUR
    asset.link_sent_to = address
    link = f"{settings.base_url.rstrip('/')}{CONFIRM_PATH}{token}"
    smtp.send(settings.smtp_url, sender=settings.smtp_from, to=address,
              subject=f"Confirm that {asset.value} belongs to your organisation",
              body=f"Someone registered {asset.value} on the threat-information exchange at {settings.base_url}\n"
                   f"so that its owner is warned about threats that concern it.\n\n"
                   f"If it is yours, confirm with this link (valid {settings.assets_link_hours} hours, once):\n"
                   f"{link}\n\nIf you did not expect this message, ignore it: nothing happens without the link.\n")


def pending(session: Session, token: str) -> Asset:
    """The asset a confirmation link is for, if the link is still valid (not used, not expired)."""
    asset = session.scalar(select(Asset).where(Asset.link_hash == _hash(token))) if len(token) < 100 else None
    if asset is None or (asset.link_expires_at or 0) <= now_micros():
        raise NotFound("this confirmation link is unknown, used or expired; ask for a new one")
    return asset


def confirm(session: Session, token: str, *, settings: Settings) -> Asset:
    """Spend a confirmation link: the asset becomes verified by the method the link was sent for."""
    asset = pending(session, token)
    method = VerificationMethod.rdap if AssetKind(asset.kind) in service.NUMBERED else VerificationMethod.email
    service.mark_verified(asset, method, settings=settings)
    return asset


def due(session: Session, *, limit: int = 500) -> list[Asset]:
    """Verified assets whose proof runs out within ``RECHECK_WINDOW`` and that were not tried in the last day,
    oldest expiry first."""
    now = now_micros()
    return list(session.scalars(
        select(Asset)
        .where(Asset.verification_expires_at.is_not(None), Asset.verification_expires_at < now + RECHECK_WINDOW,
               or_(Asset.checked_at.is_(None), Asset.checked_at < now - service.DAY))
        .order_by(Asset.verification_expires_at).limit(limit)))


def recheck(session: Session, asset: Asset, *, settings: Settings) -> Outcome:
    """Renew a verification by its own method: DNS and web checks re-run, mail methods mail a new link to
    the same kind of address; an approval cannot renew itself and lapses unless a CSIRT approves again."""
    method = VerificationMethod(asset.verification_method or VerificationMethod.approval.value)
    if method == VerificationMethod.approval:
        asset.checked_at = now_micros()
        return Outcome(False, "approval lapses unless a csirt or admin organisation approves again")
    mailbox = (asset.link_sent_to or "security@").partition("@")[0]
    return verify(session, asset, method, settings=settings, caller=None,
                  mailbox=mailbox if mailbox in MAILBOXES else "security")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
