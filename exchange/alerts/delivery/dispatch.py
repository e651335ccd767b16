"""A worker's dispatch loop: fan out, claim a batch, read what each message says, send, record each outcome.

Everything a message needs is read before sending, in one short transaction; each outcome is
written in its own transaction for the whole batch once it is sent, so a crash loses at most the record of the batch in
hand (sent again under the same ids when their lease runs out). ``stopping`` (set on
SIGTERM) is checked between batches: the batch in hand is always finished.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from email.message import Message as MimeMessage

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
    email: MimeMessage | None = None


def prepare(session: Session, pks: list[int], settings: Settings) -> list[Work]:
    rows = list(session.execute(select(Delivery, Subscription, Org)
                                .join(Subscription, Subscription.pk == Delivery.subscription_pk)
                                .join(Org, Org.pk == Delivery.org_pk).where(Delivery.pk.in_(pks))
                                .order_by(Delivery.pk)))
    digests: dict[int, list[Delivery]] = {}
    for bundled in session.scalars(select(Delivery).where(
            Delivery.digest_pk.in_([d.pk for d, _, _ in rows if d.event_pk is None])).order_by(Delivery.pk)):
        digests.setdefault(bundled.digest_pk or 0, []).append(bundled)
    messages = [d for d, _, _ in rows if d.event_pk is not None] + [d for ds in digests.values() for d in ds]
    # Into the session's identity map at once (held here: the map keeps only weak references), so the
    # per-message session.get() below runs no query.
    alerts = {a.pk: a for a in session.scalars(select(Alert).where(Alert.pk.in_({d.alert_pk for d in messages})))}
    loaded = list(session.scalars(select(AlertEvent).where(AlertEvent.pk.in_({d.event_pk for d in messages}))))
    now = now_micros()
    secrets: dict[int, list[str]] = {}
    composer = compose.Composer(session, settings.base_url)
    orgs = {org.pk: org for _, _, org in rows}
    composer.prefetch((alerts[d.alert_pk], orgs[d.org_pk]) for d in messages if d.alert_pk in alerts)
    out: list[Work] = []
    for delivery, sub, org in rows:
        channel = Channel(sub.channel)
        work = Work(pk=delivery.pk, org_pk=org.pk, sub_pk=sub.pk, channel=channel, url=sub.address,
                    handshake=sub.consented_at is None, secrets=[])
        if delivery.event_pk is None:  # a digest
            latest = {d.alert_pk: d for d in digests.get(delivery.pk, [])}  # an alert that changed twice: as it is now
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
    del alerts, loaded
    return out


def _part(session: Session, composer: compose.Composer, delivery: Delivery, sub: Subscription,
          org: Org) -> tuple[Message, Category]:
    alert = session.get_one(Alert, delivery.alert_pk)  # bundled rows go with their alert and event
    event = session.get_one(AlertEvent, delivery.event_pk)
    message = composer.message(alert, org, sub, AlertEventType(event.type))
    return message, service.KIND_CATEGORY[message.kind]


CONCURRENT_SENDS = 8  # connections a worker keeps busy at once: waits on the network overlap, not the CPU


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
    outcomes: dict[int, Outcome] = {}
    due: list[Work] = []
    for work in batch:  # the hourly cap counts what this batch is about to send
        if counts.get(work.org_pk, 0) >= settings.delivery_org_hourly_cap:
            outcomes[work.pk] = Outcome(Result.postponed, "the organisation's hourly cap is reached")
        else:
            counts[work.org_pk] = counts.get(work.org_pk, 0) + 1
            due.append(work)
    outcomes.update(_send_all(due, settings))
    with transaction(sessions) as session:
        _record(session, batch, outcomes, holder, settings)
    return len(pks)


def _send_all(batch: list[Work], settings: Settings) -> dict[int, Outcome]:
    """Send concurrently. An endpoint not yet consenting gets its first message (with the handshake)
    alone, before its others; a subscription refused (410, a 5xx mailbox) gets nothing more."""
    first: dict[int, Work] = {}
    for work in batch:
        if work.handshake:
            first.setdefault(work.sub_pk, work)
    outcomes: dict[int, Outcome] = {}
    with ExitStack() as stack, ThreadPoolExecutor(CONCURRENT_SENDS, thread_name_prefix="send") as pool:
        senders = _Senders(stack, settings)
        for work, outcome in zip(first.values(), pool.map(lambda w: senders.send(w, handshake=True), first.values()),
                                 strict=True):
            outcomes[work.pk] = outcome
        consented = {w.sub_pk for w in first.values() if outcomes[w.pk].result is Result.sent}
        refused = {w.sub_pk for w in first.values() if outcomes[w.pk].result is Result.refused}
        rest = [w for w in batch if w.pk not in outcomes and w.sub_pk not in refused]
        sends = pool.map(lambda w: senders.send(w, handshake=w.handshake and w.sub_pk not in consented), rest)
        outcomes.update(zip((w.pk for w in rest), sends, strict=True))
    return outcomes


def _record(session: Session, batch: list[Work], outcomes: dict[int, Outcome], holder: str,
            settings: Settings) -> None:
    """The batch's outcomes in one transaction: consents, bounces (before their subscription stops), rows."""
    bounced: set[int] = set()
    for work in batch:
        outcome = outcomes.get(work.pk)
        if outcome is None:
            continue  # cancelled with its refused subscription
        if outcome.result is Result.sent and work.handshake:
            _consented(session, work.sub_pk)
        elif outcome.result is Result.refused and work.channel is Channel.email and work.sub_pk not in bounced:
            bounced.add(work.sub_pk)  # a 5xx: the address bounced
            bounces.bounce(session, work.pk, outcome.detail, settings=settings)
    outbox.record_all(session, holder, outcomes, max_attempts=settings.delivery_max_attempts)


def _consented(session: Session, sub_pk: int) -> None:
    sub = session.get(Subscription, sub_pk)
    if sub is not None and sub.consented_at is None:
        sub.consented_at = now_micros()


class _Senders:
    """One HTTP client for a batch and one SMTP connection per sending thread, opened when first needed."""

    def __init__(self, stack: ExitStack, settings: Settings) -> None:
        self.stack, self.settings = stack, settings
        self._lock = threading.Lock()  # the ExitStack and the lazily made client are shared by the threads
        self._local = threading.local()
        self._http: httpx.Client | None = None

    def send(self, work: Work, *, handshake: bool) -> Outcome:
        if work.channel is Channel.webhook:
            return webhook.send(self._client(), work.url, work.pk, work.body, work.secrets,
                                allowed_hosts=self.settings.webhook_allowed_hosts,
                                origin=_origin(self.settings.base_url), handshake=handshake)
        assert work.email is not None  # noqa: S101 - prepare() builds one for every mail
        try:
            self._mailer().send(work.email, envelope_from=bounces.return_path(self.settings, work.pk))
        except smtp.MailRefused as exc:
            return Outcome(Result.refused, exc.description)
        except smtp.MailFailed as exc:
            return Outcome(Result.retry, exc.description)
        return Outcome(Result.sent, "accepted by the mail server")

    def _client(self) -> httpx.Client:
        with self._lock:
            if self._http is None:
                self._http = self.stack.enter_context(
                    webhook.client(self.settings.webhook_timeout_seconds, connections=CONCURRENT_SENDS))
            return self._http

    def _mailer(self) -> smtp.Mailer:
        mailer: smtp.Mailer | None = getattr(self._local, "mailer", None)
        if mailer is None:
            mailer = self._local.mailer = smtp.Mailer(self.settings.smtp_url,
                                                      dkim_signer=mail.dkim_signer(self.settings))
            with self._lock:
                self.stack.enter_context(mailer)
        return mailer


def _origin(base_url: str) -> str:
    return str(httpx.URL(base_url).host)


def batches(sessions: sessionmaker[Session], settings: Settings, holder: str,
            stopping: threading.Event) -> Iterator[int]:
    """Batch after batch while there is work, stopping between batches on SIGTERM."""
    while not stopping.is_set():
        claimed = run_batch(sessions, settings, holder)
        if not claimed:
            return
        yield claimed
