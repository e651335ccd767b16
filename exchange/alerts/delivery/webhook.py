"""Sending one webhook: the SSRF check at every send, the abuse-protection handshake, the signature.

Signatures follow Standard Webhooks (the ``standardwebhooks`` package): ``webhook-id`` is the
delivery id, the same on every retry, so a receiver drops a duplicate by id; one ``v1,`` signature
per active secret while a rotation lasts. Before the first message an endpoint must consent through
the CloudEvents webhook handshake (an ``OPTIONS`` with ``WebHook-Request-Origin``, answered with
``WebHook-Allowed-Origin``), so the hub cannot be used to flood a URL that never asked for it.
The connection goes to the address ``ssrf.resolve`` checked; redirects are not followed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from standardwebhooks.webhooks import Webhook

from exchange.alerts.delivery import ssrf
from exchange.alerts.delivery.outbox import Outcome, Result
from exchange.core.timestamps import SECOND

CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"
_MAX_RETRY_AFTER = 24 * 3600


def client(timeout_seconds: float, *, connections: int = 10) -> httpx.Client:
    """One client per batch, shared by its sending threads: connections to the same endpoint are reused."""
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    return httpx.Client(timeout=timeout_seconds, follow_redirects=False, trust_env=False, limits=limits)


def _request(http: httpx.Client, method: str, target: ssrf.Target, headers: dict[str, str],
             body: bytes | None = None) -> httpx.Response:
    extensions: dict[str, Any] = {"sni_hostname": target.host} if target.scheme == "https" else {}
    return http.request(method, target.connect_url, headers={**headers, "Host": target.host_header}, content=body,
                        extensions=extensions)


def consent(http: httpx.Client, target: ssrf.Target, origin: str) -> bool:
    """The CloudEvents abuse-protection handshake: does the endpoint accept events from ``origin``?"""
    answer = _request(http, "OPTIONS", target, {"WebHook-Request-Origin": origin})
    allowed = {o.strip() for o in answer.headers.get("WebHook-Allowed-Origin", "").split(",")}
    return answer.is_success and bool(allowed & {"*", origin})


def signature_headers(delivery_pk: int, body: bytes, secrets: Sequence[str], at: datetime) -> dict[str, str]:
    msg_id = str(delivery_pk)
    return {"webhook-id": msg_id, "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": " ".join(Webhook(s).sign(msg_id, at, body) for s in secrets),
            "Content-Type": CONTENT_TYPE}


def send(http: httpx.Client, url: str, delivery_pk: int, body: bytes, secrets: Sequence[str], *,
         allowed_hosts: Sequence[str], origin: str, handshake: bool) -> Outcome:
    """POST one signed event; ``handshake``: ask for consent first (the endpoint's first message)."""
    try:
        target = ssrf.resolve(url, allowed_hosts)
    except ssrf.UnsafeWebhook as exc:  # the name may resolve elsewhere later; dead after the last attempt
        return Outcome(Result.retry, exc.description)
    try:
        if handshake and not consent(http, target, origin):
            return Outcome(Result.retry, "the endpoint did not consent: no WebHook-Allowed-Origin for "
                           f"{origin} in its answer to OPTIONS")
        answer = _request(http, "POST", target, signature_headers(delivery_pk, body, secrets, datetime.now(UTC)),
                          body)
    except httpx.HTTPError as exc:
        return Outcome(Result.retry, f"{type(exc).__name__}: {exc}"[:500])
    if answer.is_success:
        return Outcome(Result.sent, f"HTTP {answer.status_code}")
    if answer.status_code == 410:
        return Outcome(Result.refused, "the endpoint answered 410 Gone: webhook disabled")
    return Outcome(Result.retry, f"HTTP {answer.status_code}", _retry_after(answer.headers.get("Retry-After")))


def _retry_after(value: str | None) -> int | None:
    """µs to wait from a Retry-After header (seconds or an HTTP date), capped at a day."""
    if not value:
        return None
    try:
        seconds = float(value) if value.strip().isdigit() else (
            parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds()
    except (TypeError, ValueError):
        return None
    return round(min(max(seconds, 1), _MAX_RETRY_AFTER) * SECOND)
