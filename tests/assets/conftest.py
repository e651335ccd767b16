"""Real local servers the verification tests talk to: DNS (dnslib), HTTP (the standard library's), SMTP
(aiosmtpd). Each runs in the test process on a free loopback port and is stopped after the test."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from dnslib import QTYPE, RR, TXT
from dnslib.server import DNSServer

from exchange.bench.taxii_run import free_port
from exchange.core.settings import Settings


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The shared test settings, accepting the documentation names and ranges the tests use."""
    return settings.model_copy(update={"assets_allow_reserved": True})


@dataclass
class Zone:
    """TXT records by name (lower case, no trailing dot) served over UDP on 127.0.0.1:port."""

    port: int = 0
    txt: dict[str, list[str]] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)
    # with ``hold`` true the server answers once ``release`` is set; ``holding`` is set while it waits for that
    hold: bool = False
    holding: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    def resolve(self, request: Any, handler: Any) -> Any:
        reply = request.reply()
        name = str(request.q.qname).rstrip(".").lower()
        self.asked.append(name)
        if self.hold:
            self.holding.set()
            self.release.wait(60)
        if request.q.qtype == QTYPE.TXT:
            for value in self.txt.get(name, []):
                reply.add_answer(RR(request.q.qname, QTYPE.TXT, rdata=TXT(value), ttl=60))
        return reply


@pytest.fixture
def dns_zone() -> Iterator[Zone]:
    zone = Zone()
    server = DNSServer(zone, address="127.0.0.1", port=0)
    zone.port = server.server.server_address[1]
    server.start_thread()
    yield zone
    server.stop()
    server.server.server_close()


@dataclass
class Site:
    """Pages by (Host header, path) served over plain HTTP on 127.0.0.1:port."""

    port: int = 0
    pages: dict[tuple[str, str], tuple[int, str, bytes]] = field(default_factory=dict)
    hits: list[tuple[str, str]] = field(default_factory=list)

    def put(self, host: str, path: str, body: bytes | dict[str, Any], status: int = 200,
            content_type: str = "text/plain") -> None:
        if isinstance(body, dict):
            body, content_type = json.dumps(body).encode(), "application/rdap+json"
        self.pages[(host, path)] = (status, content_type, body)


@pytest.fixture
def site() -> Iterator[Site]:
    state = Site()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the standard library's name
            host = (self.headers.get("Host") or "").rpartition(":")[0] or self.headers.get("Host") or ""
            state.hits.append((host, self.path))
            status, content_type, body = state.pages.get((host, self.path), (404, "text/plain", b"not here"))
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            if status in (301, 302):
                self.send_header("Location", body.decode())
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the standard library's name
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@dataclass
class Mailbox:
    port: int = 0
    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        self.messages.append(message_from_bytes(envelope.original_content, policy=policy.default))
        return "250 OK"

    def text(self, index: int = 0) -> str:
        """The decoded plain-text body of a received message."""
        return str(self.messages[index].get_content())


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox(port=free_port())
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    yield box
    controller.stop()
