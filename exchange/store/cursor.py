"""Self-contained, opaque paging cursors.

A cursor carries the last row's key and a fingerprint of the query it belongs to, encrypted and
authenticated (AES-256-GCM) with a key every replica reads from the database: any replica can
continue a listing, it survives restarts, and the server keeps no paging state (medallion's
in-memory paging does neither). A cursor used with another query, or altered, is refused.

Why encrypted and not only signed: the key is the insert sequence of *all* rows, hidden ones
included, so a reader who could read it would count the rows it may not see between two of its
own (an outside review saw a gap of 14 hidden rows with ``limit=1``). Every token has the same
length and a fresh random nonce, so two tokens tell nothing about each other.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import struct
import weakref
from functools import cache

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from exchange.core.errors import BadRequest
from exchange.store.models import HubSecret

_NONCE_BYTES = 12  # the GCM standard size; random per token (2**-32 collision bound is far beyond any listing)
_PK = struct.Struct(">q")  # fixed width, so the token's length never depends on the key's magnitude
_FINGERPRINT_CHARS = 16
_TOKEN_CHARS = len(base64.urlsafe_b64encode(bytes(_NONCE_BYTES + _PK.size + _FINGERPRINT_CHARS + 16)).rstrip(b"="))


# Per engine, read once: through the caller's own session, so the first listing of a process never needs a
# second connection (20 concurrent first listings used to empty the pool and wait 30 s for a 503).
_KEYS: weakref.WeakKeyDictionary[Engine, bytes] = weakref.WeakKeyDictionary()


@cache
def _cipher(key: bytes) -> AESGCM:
    """One cipher object per key: building it costs more than sealing a 24-byte cursor."""
    return AESGCM(key)


def signing_key(session: Session) -> bytes:
    """The hub's cursor key (32 random bytes made by the migration, shared by every replica)."""
    bind = session.get_bind()
    engine = bind.engine if not isinstance(bind, Engine) else bind
    key = _KEYS.get(engine)
    if key is None:
        value = session.scalar(select(HubSecret.value).where(HubSecret.name == "cursor"))
        if not value:
            raise RuntimeError("the cursor key is missing: run `exchange db upgrade`")
        key = _KEYS[engine] = bytes.fromhex(value)
    return key


def fingerprint(*parts: object) -> str:
    """A short digest of the query a cursor continues (collection, filters), so it cannot be reused elsewhere."""
    return hashlib.sha256(orjson.dumps(parts, option=orjson.OPT_NON_STR_KEYS)).hexdigest()[:_FINGERPRINT_CHARS]


def encode(key: bytes, last_pk: int, query: str) -> str:
    nonce = os.urandom(_NONCE_BYTES)
    sealed = _cipher(key).encrypt(nonce, _PK.pack(last_pk) + query.encode(), None)
    return base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")


def decode(key: bytes, token: str, query: str) -> int:
    """The last key of the previous page; 400 for anything this server did not issue for this query."""
    try:
        if len(token) != _TOKEN_CHARS:
            raise ValueError("length")
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        plain = _cipher(key).decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], None)
        (last_pk,) = _PK.unpack_from(plain)
        issued_for = plain[_PK.size:].decode()
    except (ValueError, binascii.Error, InvalidTag, struct.error):
        raise BadRequest("'next' is not a cursor this server issued") from None
    if issued_for != query:
        raise BadRequest("'next' belongs to another query; repeat the query's parameters with it")
    return int(last_pk)
