"""A worker's dispatch loop: fan out, claim a batch, read what each message says, send, record each outcome.

Everything a message needs is read before sending, in one short transaction; each outcome is
written in its own transaction right after its send, so a crash loses at most the record of the
messages in flight (sent again under the same id when their lease runs out). ``stopping`` (set on
SIGTERM) is checked between batches: the batch in hand is always finished.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from email.message import EmailMessage

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from exchange.alerts import wording
from exchange.alerts.delivery import bounces, compose, events, mail, outbox, service, webhook
from exchange.alerts.delivery.models import Category, Channel, Delivery, Subscription
from exchange.alerts.delivery.outbox import Outcome, Result
from exchange.alerts.message import Message
from exchange.alerts.models import Alert, AlertEvent, AlertEventType
from exchange.core.db import transaction
from exchange.core.settings import Settings
from exchange.core.timestamps import now_micros
from exchange.notify import smtp
from exchange.orgs.models import Org

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Work:
    """One claimed delivery, ready to send."""

    pk: int
    org_pk: int
    sub_pk: int
    channel: Channel
    url: str
    handshake: bool
    secrets: list[str]
    body: bytes = b""  # webhooks
    email: EmailMessage | None = None


def prepare(session: Session, pks: list[int], settings: Settings) -> list[Work]:
    rows = list(session.execute(select(Delivery, Subscription, Org)
                                .join(Subscription, Subscription.pk == Delivery.subscription_pk)
                                .join(Org, Org.pk == Delivery.org_pk).where(Delivery.pk.in_(pks))
                                .order_by(Delivery.pk)))
    # Into the session's identity map at once (held here: the map keeps only weak references), so the
    # per-message session.get() below runs no query.
    loaded = [*session.scalars(select(Alert).where(Alert.pk.in_({d.alert_pk for d, _, _ in rows}))),
              *session.scalars(select(AlertEvent).where(AlertEvent.pk.in_({d.event_pk for d, _, _ in rows})))]
    now = now_micros()
    secrets: dict[int, list[str]] = {}
    composer = compose.Composer(session, settings.base_url)
    out: list[Work] = []
    for delivery, sub, org in rows:
        channel = Channel(sub.channel)
        work = Work(pk=delivery.pk, org_pk=org.pk, sub_pk=sub.pk, channel=channel, url=sub.address,
                    handshake=sub.consented_at is None, secrets=[])
        if delivery.event_pk is None:  # a digest
            bundled = session.scalars(select(Delivery).where(Delivery.digest_pk == delivery.pk).order_by(Delivery.pk))
            latest = {d.alert_pk: d for d in bundled}  # an alert that changed twice: as it is now
            parts = [_part(session, composer, d, sub, org) for d in latest.values()]
            if not parts:
                continue  # every alert it held went with its organisation
            rendered = wording.render_digest([m for m, _ in parts], sub.language, organisation=org.name,
                                             period=sub.digest)
            work.email = mail.compose(session, delivery.pk, sub, rendered, sorted({c for _, c in parts}),
                                      settings=settings)
        else:
            event = session.get(AlertEvent, delivery.event_pk)
            alert = session.get(Alert, delivery.alert_pk)
            if event is None or alert is None:
                continue  # deleted with its organisation; its delivery goes with it
            change = AlertEventType(event.type)
            message = composer.message(alert, org, sub, change)
            if channel is Channel.webhook:
                if sub.pk not in secrets:
                    secrets[sub.pk] = [s.secret for s in service.active_secrets(session, sub.pk, now=now)]
                work.secrets = secrets[sub.pk]
                work.body = events.envelope(delivery.pk, change, event.created_at, message, alert_id=alert.pk,
                                            organisation=org.slug, object_id=alert.object_id,
                                            source=settings.base_url)
            else:
                work.email = mail.compose(session, delivery.pk, sub, wording.render(message, sub.language),
                                          [service.KIND_CATEGORY[message.kind]], settings=settings)
        out.append(work)
    del loaded
    return out


def _part(session: Session, composer: compose.Composer, delivery: Delivery, sub: Subscription,
          org: Org) -> tuple[Message, Category]:
    alert = session.get_one(Alert, delivery.alert_pk)  # bundled rows go with their alert and event
    event = session.get_one(AlertEvent, delivery.event_pk)
    message = composer.message(alert, org, sub, AlertEventType(event.type))
    return message, service.KIND_CATEGORY[message.kind]


def run_batch(sessions: sessionmaker[Session], settings: Settings, holder: str) -> int:
    """Fan out, claim and send one batch; returns how many deliveries it claimed."""
    with transaction(sessions) as session:
        outbox.fan_out(session)
    with transaction(sessions) as session:
        pks = outbox.claim(session, holder, limit=settings.delivery_batch_size,
                           lease_seconds=settings.delivery_lease_seconds)
    if not pks:
        return 0
    with transaction(sessions) as session:
        batch = prepare(session, pks, settings)
        counts = outbox.sent_last_hour(session, sorted({w.org_pk for w in batch}))
    consented: set[int] = set()
    refused: set[int] = set()  # subscriptions disabled during this batch: their other rows are cancelled
    with ExitStack() as stack:
        senders = _Senders(stack, settings)
        for work in batch:
            if work.sub_pk in refused:
                continue
            if counts.get(work.org_pk, 0) >= settings.delivery_org_hourly_cap:
                outcome = Outcome(Result.postponed, "the organisation's hourly cap is reached")
            else:
                outcome = senders.send(work, handshake=work.handshake and work.sub_pk not in consented)
            with transaction(sessions) as session:
                if outcome.result is Result.sent:
                    counts[work.org_pk] = counts.get(work.org_pk, 0) + 1
                    if work.channel is Channel.webhook and work.sub_pk not in consented:
                        consented.add(work.sub_pk)
                        _consented(session, work.sub_pk)
                elif outcome.result is Result.refused:
                    refused.add(work.sub_pk)
                    if work.channel is Channel.email:  # a 5xx: the address bounced
                        bounces.bounce(session, work.pk, outcome.detail, settings=settings)
                outbox.record(session, work.pk, holder, outcome, max_attempts=settings.delivery_max_attempts)
    return len(pks)


def _consented(session: Session, sub_pk: int) -> None:
    sub = session.get(Subscription, sub_pk)
    if sub is not None and sub.consented_at is None:
        sub.consented_at = now_micros()


class _Senders:
    """One SMTP connection and one HTTP client for a batch, opened when first needed."""

    def __init__(self, stack: ExitStack, settings: Settings) -> None:
        self.stack, self.settings = stack, settings
        self._mailer: smtp.Mailer | None = None
        self._http: httpx.Client | None = None

    def send(self, work: Work, *, handshake: bool) -> Outcome:
        if work.channel is Channel.webhook:
            if self._http is None:
                self._http = self.stack.enter_context(webhook.client(self.settings.webhook_timeout_seconds))
            return webhook.send(self._http, work.url, work.pk, work.body, work.secrets,
                                allowed_hosts=self.settings.webhook_allowed_hosts,
                                origin=_origin(self.settings.base_url), handshake=handshake)
        assert work.email is not None  # noqa: S101 - prepare() builds one for every mail
        try:
            if self._mailer is None:
                self._mailer = self.stack.enter_context(
                    smtp.Mailer(self.settings.smtp_url, dkim_signer=mail.dkim_signer(self.settings)))
            self._mailer.send(work.email, envelope_from=bounces.return_path(self.settings, work.pk))
        except smtp.MailRefused as exc:
            return Outcome(Result.refused, exc.description)
        except smtp.MailFailed as exc:
            return Outcome(Result.retry, exc.description)
        return Outcome(Result.sent, "accepted by the mail server")


def _origin(base_url: str) -> str:
    return str(httpx.URL(base_url).host)


def batches(sessions: sessionmaker[Session], settings: Settings, holder: str,
            stopping: threading.Event) -> Iterator[int]:
    """Batch after batch while there is work, until the job's next tick, stopping between batches on SIGTERM."""
    started = time.monotonic()
    while not stopping.is_set() and time.monotonic() - started < settings.delivery_dispatch_seconds:
        claimed = run_batch(sessions, settings, holder)
        if not claimed:
            return
        yield claimed
