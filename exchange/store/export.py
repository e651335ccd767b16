"""Current objects written out as a STIX bundle, CSV (one row per observable) or a plain-text blocklist (one
value of one kind per line): the formats of ``exchange export`` and of the web's "export this view".

The rows come from ``store.reads.list_objects`` a page per transaction (``pages``), so every export is what
the reader may read (the one read rule) and a long one holds no transaction open while it is written out;
the writers (``chunks``) turn rows into bytes as they come, so nothing holds the whole export in memory.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator, Sequence

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from exchange.core.db import transaction
from exchange.orgs.models import Org
from exchange.stix import observables
from exchange.store import reads
from exchange.store.models import Collection, StixObject

FORMATS = ("stix", "csv", "txt")
# what observables.extract produces: one blocklist holds one of them
KINDS = ("domain", "ipv4", "ipv6", "url", "email", "email-domain", "md5", "sha1", "sha256", "sha512", "cve", "cpe")
CSV_HEADER = ("kind", "value", "object_id", "type", "name", "valid_from", "valid_until", "tlp")


def pages(sessions: sessionmaker[Session], reader: Org | None, *, page_size: int, types: Sequence[str] = (),
          value: str | None = None, added_since: int | None = None, collection: Collection | None = None,
          tlp: Sequence[str] = ()) -> Iterator[tuple[bytes, str]]:
    """(raw JSON, TLP level) of every current object the reader may see, a page per transaction."""
    next_token = None
    while True:
        with transaction(sessions) as session:
            page = reads.list_objects(session, reader, limit=page_size, next_token=next_token, types=types,
                                      value=value, added_since=added_since, collection=collection, tlp=tlp)
            # the page is already filtered by the access rules: this only looks up the level of each row
            found = session.execute(select(StixObject.pk, StixObject.tlp)
                                    .where(StixObject.pk.in_([row.pk for row in page.rows])))
            levels = {pk: tlp for pk, tlp in found.all()}  # noqa: C416 - rows unpack, they are not pairs to dict()
            rows = [(row.raw, levels[row.pk]) for row in page.rows]
        # Handed out after the transaction: a slow download must not hold a pooled connection (20 exports
        # at once held them all, and every other page and the ingester waited for the pool).
        yield from rows
        if page.next is None:
            return
        next_token = page.next


def chunks(fmt: str, kind: str | None, rows: Iterator[tuple[bytes, str]]) -> Iterator[bytes]:
    """The export in ``fmt`` (one of ``FORMATS``); ``kind`` keeps only observables of that kind (csv) and is
    the one kind of a blocklist (txt, where it is required)."""
    if fmt == "stix":
        yield b'{"type":"bundle","id":"bundle--' + str(uuid.uuid4()).encode() + b'","objects":['
        for i, (raw, _) in enumerate(rows):
            yield (b"," if i else b"") + raw
        yield b"]}\n"
    elif fmt == "txt":
        if kind is None:
            raise ValueError("a blocklist holds one kind of value")
        seen: set[str] = set()
        for raw, _ in rows:
            fresh = [e.value for e in observables.extract(orjson.loads(raw)) if e.kind == kind and e.value not in seen]
            seen.update(fresh)
            if fresh:
                yield "".join(f"{v}\n" for v in dict.fromkeys(fresh)).encode()
    else:
        yield _csv_line(CSV_HEADER)
        for raw, tlp in rows:
            obj = orjson.loads(raw)
            yield b"".join(_csv_line((e.kind, e.value, obj["id"], obj["type"], obj.get("name", ""),
                                      obj.get("valid_from", ""), obj.get("valid_until", ""), tlp))
                           for e in observables.extract(obj) if kind is None or e.kind == kind)


def _csv_line(fields: Sequence[object]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerow(fields)
    return out.getvalue().encode()
