"""Self-contained, tamper-evident paging cursors.

A cursor carries the last row's key and a fingerprint of the query it belongs to, signed with a
key every replica reads from the database: any replica can continue a listing, it survives
restarts, and the server keeps no paging state (medallion's in-memory paging does neither).
A cursor used with another query, or altered, is refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import cache

import orjson
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from exchange.errors import BadRequest
from exchange.stix.models import HubSecret

_SIG_BYTES = 12


@cache
def _key(engine: Engine) -> bytes:
    with Session(engine) as session:
        value = session.scalar(select(HubSecret.value).where(HubSecret.name == "cursor"))
    if not value:
        raise RuntimeError("the cursor signing key is missing: run `exchange db upgrade`")
    return bytes.fromhex(value)


def signing_key(session: Session) -> bytes:
    bind = session.get_bind()
    return _key(bind.engine if not isinstance(bind, Engine) else bind)


def fingerprint(*parts: object) -> str:
    """A short digest of the query a cursor continues (collection, filters), so it cannot be reused elsewhere."""
    return hashlib.sha256(orjson.dumps(parts, option=orjson.OPT_NON_STR_KEYS)).hexdigest()[:16]


def encode(key: bytes, last_pk: int, query: str) -> str:
    payload = orjson.dumps([last_pk, query])
    sig = hmac.new(key, payload, hashlib.sha256).digest()[:_SIG_BYTES]
    return base64.urlsafe_b64encode(payload + sig).decode().rstrip("=")


def decode(key: bytes, token: str, query: str) -> int:
    """The last key of the previous page; 400 for anything this server did not issue for this query."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        payload, sig = raw[:-_SIG_BYTES], raw[-_SIG_BYTES:]
        if not hmac.compare_digest(sig, hmac.new(key, payload, hashlib.sha256).digest()[:_SIG_BYTES]):
            raise ValueError("signature")
        last_pk, issued_for = orjson.loads(payload)
    except (ValueError, TypeError, orjson.JSONDecodeError):
        raise BadRequest("'next' is not a cursor this server issued") from None
    if issued_for != query or not isinstance(last_pk, int):
        raise BadRequest("'next' belongs to another query; repeat the query's parameters with it")
    return last_pk
