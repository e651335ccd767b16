"""Request rate limits per client address and per API key: a pure ASGI middleware that answers 429.

The limiter runs before authentication, so an over-eager or hostile client costs one counter
update and never a database query. That is also why the per-key limit is keyed on a digest of
the whole presented key (a Bearer token, or the HTTP Basic password) without checking it: only
the digest, never the secret, goes to the limiter's storage (which may be a shared Redis); a
made-up key throttles only itself, and the client's address limit bounds what it can do with
many; and nobody can spend a real key's budget without holding the key (keying on the lookup
prefix alone would have let anyone who saw a prefix in a key list do that).

Counters live in ``rate_limit_storage``: ``memory://`` counts per process (``--workers 4`` allows
four times the rate), ``redis://`` is shared by every worker and replica. A storage failure lets
requests through (logged): losing the limiter should not take the hub down with it.

The client address is the ASGI client: behind a reverse proxy, let uvicorn take it from
``X-Forwarded-For`` (``FORWARDED_ALLOW_IPS``), or every client shares the proxy's limit.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import math
import re
import time
from typing import Protocol

from limits import RateLimitItem, WindowStats, parse, strategies
from limits.aio import strategies as aio_strategies
from limits.errors import StorageError
from limits.storage import storage_from_string
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from exchange.core.errors import TooManyRequests
from exchange.core.handlers import exchange_error_response

log = logging.getLogger(__name__)

EXEMPT = frozenset({"/healthz", "/readyz", "/metrics"})  # probes and scrapers must never be turned away


def key_digest(authorization: bytes, key_scheme: str) -> str | None:
    """Who the per-key limit counts: a digest of the API key in an ``Authorization`` header (Bearer,
    or Basic's password); None when the header carries no key of ours (``<key_scheme>_<prefix>_<secret>``:
    the scheme is the organisations' to say, so the app passes it in)."""
    scheme, _, credentials = authorization.decode("latin-1").strip().partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "basic":
        try:
            credentials = base64.b64decode(credentials, validate=True).decode().partition(":")[2]
        except (binascii.Error, UnicodeDecodeError):
            return None
    elif scheme.lower() != "bearer":
        return None
    if re.match(rf"{re.escape(key_scheme)}_[A-Za-z0-9]{{1,32}}_", credentials) is None:
        return None
    return hashlib.sha256(credentials.encode()).hexdigest()[:32]


class Limiter(Protocol):
    async def hit(self, item: RateLimitItem, *identifiers: str) -> bool: ...

    async def get_window_stats(self, item: RateLimitItem, *identifiers: str) -> WindowStats: ...


class InProcess:
    """limits' synchronous in-memory limiter behind the async interface: its calls never block.

    Its async twin sweeps expired entries after every hit, with a thread hop per key: several times
    slower a hit, and more so with many clients (decision 0003, "Rate limits").
    """

    def __init__(self) -> None:
        self.limiter = strategies.MovingWindowRateLimiter(storage_from_string("memory://"))

    async def hit(self, item: RateLimitItem, *identifiers: str) -> bool:
        return self.limiter.hit(item, *identifiers)

    async def get_window_stats(self, item: RateLimitItem, *identifiers: str) -> WindowStats:
        return self.limiter.get_window_stats(item, *identifiers)


def limiter(storage: str) -> Limiter:
    """An in-process limiter for ``memory://``; for shared storage the async one, which waits without blocking."""
    if storage == "memory://":
        return InProcess()
    uri = storage if storage.startswith("async+") else f"async+{storage}"
    return aio_strategies.MovingWindowRateLimiter(storage_from_string(uri, wrap_exceptions=True))


class RateLimit:
    def __init__(self, app: ASGIApp, *, per_ip: str, per_key: str, storage: str, key_scheme: str) -> None:
        self.app = app
        self.key_scheme = key_scheme
        self.per_ip = parse(per_ip) if per_ip else None
        self.per_key = parse(per_key) if per_key else None
        self.limiter = limiter(storage)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in EXEMPT:
            await self.app(scope, receive, send)
            return
        try:
            refusal = await self._refusal(scope)
        except StorageError as exc:  # one line per request while it lasts: no traceback
            log.warning("rate-limit storage unavailable (%s); request let through unchecked", exc)
            refusal = None
        if refusal is None:
            await self.app(scope, receive, send)
        else:
            await exchange_error_response(Request(scope), refusal)(scope, receive, send)

    async def _refusal(self, scope: Scope) -> TooManyRequests | None:
        if self.per_ip is not None:
            client = scope.get("client")
            address = client[0] if client else ""
            if not await self.limiter.hit(self.per_ip, "ip", address):
                return await self._too_many(self.per_ip, ("ip", address), "from this address")
        if self.per_key is not None:
            header = next((value for name, value in scope["headers"] if name == b"authorization"), None)
            digest = key_digest(header, self.key_scheme) if header else None
            if digest is not None and not await self.limiter.hit(self.per_key, "key", digest):
                return await self._too_many(self.per_key, ("key", digest), "with this API key")
        return None

    async def _too_many(self, limit: RateLimitItem, identifiers: tuple[str, str], whose: str) -> TooManyRequests:
        stats = await self.limiter.get_window_stats(limit, *identifiers)
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        return TooManyRequests(f"too many requests {whose} (limit: {limit}); retry in {retry_after} s",
                               retry_after=retry_after)
