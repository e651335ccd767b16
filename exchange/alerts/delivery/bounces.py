"""Bounces: an e-mail address refused for good is marked, switched off, and its alerts go to other contacts.

Two signals mean an address does not work: the mail server answers 5xx while the worker sends
(``dispatch``), or a server further on accepts the message and later returns a delivery status
notification (RFC 3464) to the return path. Each message leaves with its own return path,
``bounces+<delivery id>@domain`` (VERP, from ``EXCHANGE_MAIL_RETURN_PATH``), so a report names the
message it returns even when it quotes nothing of it; the MTA pipes mail to that address into
``exchange delivery bounce``. Only a ``Status: 5.x.x`` is permanent: 4.x.x (a full mailbox, a
greylisting server) and ``Action: delayed`` change nothing, the sending MTA is still trying.

A bounce sets ``Subscription.bounced_at``, disables the subscription, cancels what it had waiting,
and queues every alert it was to get (the bounced message's, a digest's alerts, the waiting ones)
to the organisation's other working e-mail subscriptions, whatever their severity or category
filters, since nobody else would hear of them; with none, each active user of the organisation
becomes an e-mail subscription with the bounced one's preferences. The ``(event, subscription)``
key makes this idempotent: a contact that already has an alert does not get it twice. The CSIRT
sees who cannot be reached (``unreachable``); ``clear`` switches a fixed address back on.

A report is taken only when it names the subscription's address (``Final-Recipient`` or
``Original-Recipient``) or returns the message's own ``Message-ID``: a stranger who guesses a
delivery id cannot switch an organisation's mail off without also knowing its address.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from email.parser import HeaderParser

from sqlalchemy import select
from sqlalchemy.orm import Session

from exchange.alerts.delivery import outbox, service
from exchange.alerts.delivery.models import Channel, Delivery, DeliveryStatus, Digest, Subscription
from exchange.alerts.models import AlertEvent, Severity
from exchange.core.errors import BadRequest, Conflict, NotFound
from exchange.core.settings import Settings
from exchange.core.timestamps import now_micros
from exchange.orgs import audit
from exchange.orgs.models import Org, User

ACTOR = "bounce"  # the audit log's actor for what a bounce does
_VERP = re.compile(r"^[^@+\s]+\+(\d{1,18})@", re.ASCII)
_MESSAGE_ID = re.compile(r"<delivery-(\d{1,18})@", re.ASCII)  # mail.message_id
_STATUS = re.compile(r"^\s*([245])\.\d{1,3}\.\d{1,3}", re.ASCII)
_ADDRESSED_TO = ("Delivered-To", "X-Original-To", "Envelope-To", "To")  # where an MTA leaves the return path


def return_path(settings: Settings, delivery_pk: int) -> str | None:
    """The envelope sender of delivery ``delivery_pk``'s mail, or None when no return path is set."""
    local, _, domain = settings.mail_return_path.rpartition("@")
    if not local or not domain:
        return None
    return f"{local.partition('+')[0]}+{delivery_pk}@{domain}"


@dataclass(frozen=True, slots=True)
class Recipient:
    """One per-recipient block of a delivery status report."""

    final: str
    original: str
    action: str
    status: str
    diagnostic: str

    @property
    def permanent(self) -> bool:
        match = _STATUS.match(self.status)
        return match is not None and match.group(1) == "5" and self.action.lower() != "delayed"


@dataclass(frozen=True, slots=True)
class Report:
    """What a delivery status notification says, and which message it is about."""

    delivery_pk: int | None
    recipients: list[Recipient]
    returned_message_id: str | None  # of the message it returns, when it quotes its headers

    def failure(self) -> Recipient | None:
        return next((r for r in self.recipients if r.permanent), None)


def parse(raw: bytes, *, to: str | None = None) -> Report:
    """Read a DSN; ``to`` is the envelope recipient the MTA gives (else the report's own headers tell).

    BadRequest when it is not a delivery status notification or names no message of the hub."""
    message = message_from_bytes(raw, policy=policy.default)
    status = next((p for p in message.walk() if p.get_content_type() == "message/delivery-status"), None)
    if status is None:
        raise BadRequest("not a delivery status notification: no message/delivery-status part (RFC 3464)")
    blocks = status.get_payload()  # the per-message fields, then one block per recipient
    recipients = [_recipient(b) for b in blocks if isinstance(b, Message) and ("Final-Recipient" in b or "Status" in b)
                  ] if isinstance(blocks, list) else []
    if not recipients:
        raise BadRequest("the delivery status notification has no per-recipient fields")
    returned = _returned_message_id(message)
    by_message_id = _number(_MESSAGE_ID, returned)
    addressed = [to] if to else [str(v) for name in _ADDRESSED_TO for v in message.get_all(name) or []]
    by_path = next((pk for pk in (_number(_VERP, _bare(a)) for a in addressed) if pk is not None), None)
    if by_path is not None and by_message_id is not None and by_path != by_message_id:
        raise BadRequest(f"the report was sent to the return path of delivery {by_path} but returns the message "
                         f"of delivery {by_message_id}")
    pk = by_path if by_path is not None else by_message_id
    if pk is None:
        raise BadRequest("the report names no message of this hub: it was not sent to a bounces+<id>@ return path "
                         "and quotes no <delivery-<id>@…> Message-ID")
    return Report(delivery_pk=pk, recipients=recipients, returned_message_id=returned)


def _recipient(block: Message) -> Recipient:
    def field_value(name: str) -> str:
        value = str(block.get(name, "")).strip()
        return value.partition(";")[2].strip() if name.endswith("Recipient") or name == "Diagnostic-Code" else value

    return Recipient(final=_bare(field_value("Final-Recipient")), original=_bare(field_value("Original-Recipient")),
                     action=field_value("Action"), status=field_value("Status"),
                     diagnostic=field_value("Diagnostic-Code") or field_value("Status"))


def _returned_message_id(message: EmailMessage) -> str | None:
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "text/rfc822-headers":
            headers: Message = HeaderParser(policy=policy.default).parsestr(str(part.get_content()))
        elif kind in ("message/rfc822", "message/global") and isinstance(inner := part.get_payload(), list) \
                and isinstance(inner[0], Message):
            headers = inner[0]
        else:
            continue
        if headers.get("Message-ID"):
            return str(headers["Message-ID"]).strip()
    return None


def _number(pattern: re.Pattern[str], text: str | None) -> int | None:
    match = pattern.search(text or "")
    return int(match.group(1)) if match else None


def _bare(address: str) -> str:
    return address.strip().strip("<>").strip().lower()


@dataclass(slots=True)
class Bounced:
    """What a bounce did: the subscription, the contacts its alerts went to, how many alerts."""

    subscription: Subscription
    fallbacks: list[Subscription] = field(default_factory=list)
    alerts: int = 0
    permanent: bool = True


def receive(session: Session, report: Report, settings: Settings) -> Bounced:
    """Act on a parsed DSN: NotFound for a delivery the hub does not have, BadRequest for one the report
    does not match; a temporary failure changes nothing (``permanent`` False)."""
    delivery = session.get(Delivery, report.delivery_pk) if report.delivery_pk is not None else None
    sub = session.get(Subscription, delivery.subscription_pk) if delivery is not None else None
    if delivery is None or sub is None:
        raise NotFound(f"no delivery {report.delivery_pk}: the message is not one of this hub's, or its "
                       "subscription or organisation was removed since")
    if sub.channel != Channel.email:
        raise BadRequest(f"delivery {delivery.pk} went to a webhook, not to an e-mail address")
    named = {r.final for r in report.recipients} | {r.original for r in report.recipients}
    if sub.address.lower() not in named and _number(_MESSAGE_ID, report.returned_message_id) != delivery.pk:
        raise BadRequest(f"the report does not name {sub.address}, the address of delivery {delivery.pk}, nor "
                         "return its message: not taken")
    failure = report.failure()
    if failure is None:
        return Bounced(sub, permanent=False)
    reason = f"bounced ({failure.status}): {failure.diagnostic}"[:500]
    done = bounce(session, delivery.pk, reason, settings=settings)
    if delivery.status in (DeliveryStatus.sent, DeliveryStatus.pending):
        delivery.status, delivery.last_error = DeliveryStatus.dead.value, reason
        delivery.leased_by = delivery.leased_until = None
    if sub.disabled_at is None:
        outbox.stop(session, sub, reason)
    return done


def bounce(session: Session, delivery_pk: int, reason: str, *, settings: Settings) -> Bounced:
    """Mark the address of delivery ``delivery_pk`` bounced and queue its alerts to the other contacts.

    Call before the subscription is stopped (``outbox.stop``): what it still has waiting is queued too."""
    delivery = session.get_one(Delivery, delivery_pk)
    sub = session.get_one(Subscription, delivery.subscription_pk)
    org = session.get_one(Org, sub.org_pk)
    if sub.bounced_at is None:
        sub.bounced_at = now_micros()
    events = _events(session, delivery, sub)
    fallbacks = _fallbacks(session, org, sub, settings)
    now = now_micros()
    outbox.add(session, [outbox.row(e, f, now) for e in events for f in fallbacks])
    audit.record(session, org=None, action="subscription.bounce", target=f"{org.slug}/{sub.address}",
                 detail=f"{reason[:200]}; {len(events)} alerts to " + (", ".join(f.address for f in fallbacks)
                                                                      or "nobody: no other contact"),
                 actor=ACTOR)
    return Bounced(sub, fallbacks, len({e.alert_pk for e in events}))


def _events(session: Session, delivery: Delivery, sub: Subscription) -> list[AlertEvent]:
    """The alert events the address missed: the bounced message's (a digest: those it bundled) and those
    still waiting for the subscription."""
    missed = select(Delivery.event_pk).where(
        ((Delivery.pk == delivery.pk) | (Delivery.digest_pk == delivery.pk)
         | ((Delivery.subscription_pk == sub.pk)
            & Delivery.status.in_([DeliveryStatus.pending.value, DeliveryStatus.held.value]))),
        Delivery.event_pk.is_not(None))
    return list(session.scalars(select(AlertEvent).where(AlertEvent.pk.in_(missed)).order_by(AlertEvent.pk)))


def _fallbacks(session: Session, org: Org, sub: Subscription, settings: Settings) -> list[Subscription]:
    """The organisation's other working e-mail subscriptions; with none, its users' addresses as new ones."""
    others = list(session.scalars(select(Subscription).where(
        Subscription.org_pk == org.pk, Subscription.channel == Channel.email.value, Subscription.pk != sub.pk,
        Subscription.disabled_at.is_(None)).order_by(Subscription.pk)))
    if others:
        return others
    taken = {a.lower() for a in session.scalars(select(Subscription.address).where(
        Subscription.org_pk == org.pk, Subscription.channel == Channel.email.value))}
    made = []
    for user in _users(session, org):
        if user.email.lower() in taken:
            continue
        try:
            made.append(service.create(
                session, org, channel=Channel.email, address=user.email, settings=settings, language=sub.language,
                min_severity=Severity(sub.min_severity), digest=Digest(sub.digest), timezone=sub.timezone,
                digest_hour=sub.digest_hour, categories=service.categories(sub)))
        except (BadRequest, Conflict):
            continue  # an address the subscription rules refuse: not a contact for alerts
    return made


def _users(session: Session, org: Org) -> Iterable[User]:
    return session.scalars(select(User).where(User.org_pk == org.pk, User.disabled_at.is_(None)).order_by(User.pk))


def clear(session: Session, sub: Subscription) -> None:
    """Switch a bounced address back on (it was fixed); Conflict when it has not bounced. Alerts it missed
    went to the fallback contacts and are not sent again."""
    if sub.bounced_at is None:
        raise Conflict(f"subscription {sub.pk} has not bounced")
    sub.bounced_at = sub.disabled_at = sub.disabled_reason = None


@dataclass(frozen=True, slots=True)
class Unreachable:
    """An organisation with addresses that no longer work; ``reachable`` False when none works."""

    org: Org
    reachable: bool
    disabled: list[Subscription]


def unreachable(session: Session, org_pk: int | None = None) -> list[Unreachable]:
    """Organisations with a bounced or refused subscription (only ``org_pk``'s when given), those that no
    working subscription is left for first."""
    query = (select(Org, Subscription).join(Subscription, Subscription.org_pk == Org.pk)
             .order_by(Org.slug, Subscription.pk))
    if org_pk is not None:
        query = query.where(Org.pk == org_pk)
    by_org: dict[int, tuple[Org, list[Subscription], list[Subscription]]] = {}
    for org, sub in session.execute(query):
        _, working, disabled = by_org.setdefault(org.pk, (org, [], []))
        (working if sub.disabled_at is None else disabled).append(sub)
    found = [Unreachable(org, bool(working), disabled) for org, working, disabled in by_org.values() if disabled]
    return sorted(found, key=lambda u: u.reachable)
