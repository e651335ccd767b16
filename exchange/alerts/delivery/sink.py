"""A webhook endpoint for the demo: answers the handshake, checks each signature, appends the event to a file.

``exchange serve --demo`` starts one on a free loopback port, so a newcomer sees signed CloudEvents
arrive (one JSON line each, with whether the signature verified) without running a receiver of
their own. Not for production: a real subscriber runs its own endpoint.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


class WebhookLog:
    def __init__(self, path: Path, secret: str, on_event: Callable[[Any, bool], None] | None = None) -> None:
        """``on_event(event, verified)`` is called as each POST arrives (``exchange bench delivery`` times them)."""
        self.path, self.secret, self.on_event = path, secret, on_event
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/webhook"

    def start(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.touch()
        threading.Thread(target=self._server.serve_forever, name="demo-webhook-log", daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _append(self, body: bytes, headers: dict[str, str]) -> None:
        try:
            event, verified = Webhook(self.secret).verify(body, headers), True
        except WebhookVerificationError:
            event, verified = body.decode(errors="replace"), False
        if self.on_event is not None:
            self.on_event(event, verified)
        line = json.dumps({"webhook-id": headers.get("webhook-id"), "signature_verified": verified, "event": event})
        with self._lock, self.path.open("a") as out:
            out.write(line + "\n")

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        log = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive: the hub reuses one connection for a batch

            def do_OPTIONS(self) -> None:  # noqa: N802 - the standard library's name
                self.send_response(200)
                self.send_header("WebHook-Allowed-Origin", self.headers.get("WebHook-Request-Origin", "*"))
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(min(int(self.headers.get("Content-Length", "0")), 1 << 20))
                log._append(body, {k.lower(): v for k, v in self.headers.items()})
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the standard library's name
                pass

        return Handler
