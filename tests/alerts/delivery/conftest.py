"""Real local servers the delivery tests send to, and a small factory of alerts and their events.

``receiver``: an HTTP server in the test process that answers the webhook handshake and verifies
every signature with the Standard Webhooks package, as a subscriber would. ``smtp_server``: aiosmtpd,
answering 250, a chosen error, or slowly.
"""

from __future__ import annotations

import asyncio
import functools
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol, TypeVar

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import insert, select
from sqlalchemy.orm import Session
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from exchange.alerts.delivery import service
from exchange.alerts.delivery.models import Channel, Subscription
from exchange.alerts.models import Alert, AlertEvent, AlertEventType, AlertKind, AlertState, Severity, SourceGrade
from exchange.assets.models import Asset
from exchange.core.settings import Settings
from exchange.core.timestamps import now_micros
from exchange.orgs.models import Org
from exchange.store import ingest, reads
from tests.factories import TLP2, indicator

SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # 24 bytes
OTHER_SECRET = "whsec_" + "QnJhbmQgbmV3IHNlY3JldCBmb3Igcm90YXRpb24h"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Receiver:
    """What a webhook endpoint got: every POST whose signature verified, by ``webhook-id``."""

    port: int = 0
    secrets: list[str] = field(default_factory=lambda: [SECRET])
    status: int = 200
    consent: bool = True
    options: int = 0
    received: list[tuple[str, dict[str, Any], dict[str, str]]] = field(default_factory=list)
    forged: int = 0
    gate: threading.Event | None = None  # when set up, the first POST waits for it
    first: threading.Event = field(default_factory=threading.Event)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def ids(self) -> set[str]:
        return {i for i, _, _ in self.received}

    def wait_for(self, distinct: int, timeout: float = 10) -> bool:
        with self.arrived:
            return self.arrived.wait_for(lambda: len(self.ids()) >= distinct, timeout)

    def wait_while_progressing(self, distinct: int, stall: float = 30) -> bool:
        """Like ``wait_for``, but fails only when no new delivery arrives for ``stall`` seconds: a slow,
        loaded machine still passes while a stuck worker fails."""
        return self.wait_until(lambda: len(self.ids()) >= distinct, stall)

    def wait_until(self, done: Callable[[], bool], stall: float = 30) -> bool:
        """Until ``done()``, woken by each arrival; False when nothing arrives for ``stall`` seconds."""
        with self.arrived:
            while not done():
                if not self.arrived.wait_for(functools.partial(self._more_than, len(self.received)), stall):
                    return done()
            return True

    def _more_than(self, count: int) -> bool:
        return len(self.received) > count

    def take(self, body: bytes, headers: dict[str, str]) -> int:
        for secret in self.secrets:
            try:
                payload = Webhook(secret).verify(body, headers)
            except WebhookVerificationError:
                continue
            if self.gate is not None and not self.first.is_set():
                self.first.set()
                self.gate.wait(10)
            with self.arrived:
                self.received.append((headers["webhook-id"], payload, headers))
                self.arrived.notify_all()
            return self.status
        self.forged += 1
        return 401


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_OPTIONS(self) -> None:  # noqa: N802 - the standard library's name
            state.options += 1
            self.send_response(200)
            if state.consent:
                self.send_header("WebHook-Allowed-Origin", self.headers.get("WebHook-Request-Origin", ""))
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            if len(body) < length:  # the sender died mid-request (the crash test): nothing arrived
                self.close_connection = True
                return
            status = state.take(body, {k.lower(): v for k, v in self.headers.items()})
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield state
    if state.gate is not None:
        state.gate.set()
    server.shutdown()
    server.server_close()


@dataclass
class SmtpServer:
    port: int = 0
    reply: str = "250 OK"
    delay: float = 0.0
    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        if self.delay:
            await asyncio.sleep(self.delay)  # a slow server is what is tested
        if self.reply.startswith("250"):
            self.messages.append(message_from_bytes(envelope.original_content, policy=policy.default))
        return self.reply

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"


class _Handler(Protocol):
    port: int


H = TypeVar("H", bound=_Handler)


def serve_smtp(handler: H) -> Iterator[H]:
    """Run an aiosmtpd ``handler`` on a free loopback port for a fixture (``yield from``)."""
    handler.port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=handler.port)
    controller.start()
    yield handler
    controller.stop()


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    yield from serve_smtp(SmtpServer())


@pytest.fixture
def settings(settings: Settings, smtp_server: SmtpServer) -> Settings:
    """Webhooks may reach the loopback receiver; mail goes to the test's SMTP server."""
    return settings.model_copy(update={"webhook_allowed_hosts": ["127.0.0.1"], "smtp_url": smtp_server.url,
                                       "smtp_from": "alerts@hub.example", "base_url": "http://hub.example"})


def subscribe(session: Session, org: Org, settings: Settings, *, webhook: str | None = None,
              email: str | None = None, **options: Any) -> Subscription:
    channel = Channel.webhook if webhook else Channel.email
    sub = service.create(session, org, channel=channel, address=webhook or email or "", settings=settings,
                         secret=SECRET if webhook else None, **options)
    session.flush()
    return sub


def make_alert(session: Session, org: Org, publisher: Org, *, kind: AlertKind = AlertKind.listed,
               severity: Severity = Severity.high, tlp: str = "amber", name: str = "Phishing site",
               change: AlertEventType = AlertEventType.created, asset: str = "bakery.example") -> Alert:
    """An object published by ``publisher`` that names ``org``'s asset, the alert about it and its event,
    written as the matching code writes them (alert and event in one transaction)."""
    extra: dict[str, Any] = {"x_exchange_recipients": [org.identity_id]} if tlp in ("red", "amber+strict") else {}
    obj = indicator(f"[domain-name:value = 'login.{asset}']", name=name, description="Steals passwords",
                    created_by_ref=publisher.identity_id, markings=[TLP2[tlp]], **extra)
    result = ingest.ingest(session, [obj], collection=reads.get_collection(session), org=publisher)
    assert result.results[0].status == "added", result
    now = now_micros()
    row = Asset(org_pk=org.pk, kind="domain", value=asset, created_at=now, challenge="c" * 32)
    session.add(row)
    session.flush()
    alert = Alert(org_pk=org.pk, asset_pk=row.pk, match_key=str(row.pk), object_id=obj["id"],
                  object_modified=now, kind=kind.value, severity=severity.value, grade=SourceGrade.probable.value,
                  state=AlertState.new.value, matched=f"login.{asset}", created_at=now, updated_at=now)
    session.add(alert)
    session.flush()
    session.add(AlertEvent(alert_pk=alert.pk, org_pk=org.pk, type=change.value, created_at=now))
    session.flush()
    return alert



def many_alerts(session: Session, org: Org, publisher: Org, count: int) -> None:
    """``count`` alerts about one published object (one per match key) and their events, in bulk."""
    obj = indicator("[domain-name:value = 'login.bakery.example']", created_by_ref=publisher.identity_id,
                    markings=[TLP2["green"]])
    ingest.ingest(session, [obj], collection=reads.get_collection(session), org=publisher)
    now = now_micros()
    session.execute(insert(Alert), [
        {"org_pk": org.pk, "asset_pk": None, "match_key": f"host:{i}", "object_id": obj["id"], "object_modified": now,
         "kind": AlertKind.listed.value, "severity": Severity.high.value, "grade": SourceGrade.probable.value,
         "state": AlertState.new.value, "matched": f"login{i}.bakery.example", "created_at": now, "updated_at": now}
        for i in range(count)])
    pks = session.scalars(select(Alert.pk).where(Alert.org_pk == org.pk, Alert.object_id == obj["id"]))
    session.execute(insert(AlertEvent), [{"alert_pk": pk, "org_pk": org.pk, "type": AlertEventType.created.value,
                                          "created_at": now} for pk in pks])


def plain_text(mail: EmailMessage) -> str:
    """The text/plain part of a received message."""
    part = mail.get_body(("plain",))
    assert isinstance(part, EmailMessage)
    return str(part.get_content())
