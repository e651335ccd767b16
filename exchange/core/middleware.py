"""ASGI middleware: request body limits (size, time, bytes in flight), Prometheus request metrics,
security headers.

The body limits are enforced while the body streams in, so a client cannot make the hub buffer
more than the limit whatever Content-Length it claims (or omits).
"""

from __future__ import annotations

import time

import anyio
from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyBudget:
    """Request-body bytes held by this process, over all requests.

    Each body counts from its first chunk until its request ends (the endpoint keeps the bytes,
    then the parsed objects, that long). A single event loop runs all middleware, so a plain
    counter needs no lock.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.held = 0


class BodyLimit:
    """Bounds each request body in size and time, and all bodies together in bytes.

    The time limit is what keeps slow clients (headers and one byte, then nothing) from pinning
    the server: the body must be complete within ``timeout`` seconds of its first read, else 408.
    The in-flight budget turns a burst of large POSTs away with 503 and Retry-After instead of
    holding several copies of them in memory at once.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, timeout: float, budget: BodyBudget) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.budget = budget

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        received = 0  # bytes of this body so far
        held = 0  # what this request counts in the budget: its declared length, or what arrived if more
        deadline: float | None = None
        complete = False  # the whole body is in: later reads only wait for the client to hang up

        def hold(size: int) -> None:
            nonlocal held
            if size <= held:
                return
            if self.budget.held + size - held > self.budget.max_bytes:
                raise HTTPException(503, "the hub is receiving too many large bodies at once; retry later",
                                    headers={"Retry-After": "5"})
            self.budget.held += size - held
            held = size

        async def limited_receive() -> Message:
            # Raised as HTTPException, because FastAPI turns any other error raised while it reads
            # a body into a 400; the app's handler renders it as the usual JSON error.
            nonlocal received, deadline, complete
            if complete:
                # A streamed response (an export) listens for the disconnect while it writes: that wait
                # lasts as long as the download, and is not a slow body.
                return await receive()
            if deadline is None:
                deadline = anyio.current_time() + self.timeout
                # The whole declared length is reserved at once: counting chunks as they come let
                # four concurrent 44 MB bodies each pass a quarter of the budget, then all fail.
                hold(min(_declared_length(scope), self.max_bytes))
            with anyio.move_on_after(max(deadline - anyio.current_time(), 0)) as scope_:
                message = await receive()
            if scope_.cancelled_caught:
                raise HTTPException(408, f"the request body did not arrive within {self.timeout:g} seconds")
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise HTTPException(413, f"request bodies are limited to {self.max_bytes} bytes")
                hold(received)
                complete = not message.get("more_body", False)
            return message

        try:
            await self.app(scope, limited_receive, send)
        finally:
            self.budget.held -= held


def _declared_length(scope: Scope) -> int:
    """The Content-Length the client announced (0 when absent or malformed: chunks are counted then)."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            return int(value) if value.isdigit() else 0
    return 0


class Metrics:
    """Request counts and latency per route template (not per URL, to keep label sets bounded), and each
    answer's own time in a ``Server-Timing`` header (``app;dur=`` milliseconds until the answer starts): what
    a browser's developer tools show as server time, and what the page benchmark reports beside the time its
    clients saw."""

    def __init__(self, app: ASGIApp, registry: CollectorRegistry) -> None:
        self.app = app
        self.requests = Counter(
            "exchange_http_requests", "HTTP requests served", ["method", "route", "status"], registry=registry
        )
        self.latency = Histogram(
            "exchange_http_request_seconds", "HTTP request latency", ["method", "route"], registry=registry
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        start = time.perf_counter()

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                timing = f"app;dur={(time.perf_counter() - start) * 1000:.1f}".encode()
                message = {**message, "headers": [*message.get("headers", ()), (b"server-timing", timing)]}
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", "unmatched")
            self.requests.labels(scope["method"], template, str(status)).inc()
            self.latency.labels(scope["method"], template).observe(time.perf_counter() - start)


_SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),  # threat data must not linger in shared caches
]
# The web portal's pages load their one style sheet from this origin and post forms to it; no scripts. The one
# frame is the e-mail preview, from this origin, under its own stricter policy (``web.settingspage``).
_CSP = (b"content-security-policy", b"default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        b"frame-src 'self'; base-uri 'none'; frame-ancestors 'none'")
_DOC_PAGES = ("/docs", "/redoc")  # the interactive API docs load their own scripts and styles


class SecurityHeaders:
    """Headers that keep browsers from sniffing, framing or caching what the hub returns. A response that sets
    one of them itself keeps its own (the e-mail preview sets a policy for a framed, sandboxed document)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = list(_SECURITY_HEADERS)
        if not scope["path"].startswith(_DOC_PAGES):
            extra.append(_CSP)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                own = list(message.get("headers", []))
                named = {name.lower() for name, _ in own}
                message["headers"] = own + [(name, value) for name, value in extra if name not in named]
            await send(message)

        await self.app(scope, receive, with_headers)
