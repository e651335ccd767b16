"""The one ingest path: TAXII POST, REST, CLI import and connectors all call ``ingest``.

A batch is one transaction (the caller's): valid objects are stored with their observables,
invalid ones are reported and skipped, and a database error leaves nothing of the batch behind.
Versioning follows STIX 2.1 (section 3.6): (id, modified) is unique, so re-sending a version is a
reported success that changes nothing; the newest ``modified`` is the current version; a revoked
object is final; SCOs and marking definitions are never versioned.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import orjson
from sqlalchemy import insert, select, text, update
from sqlalchemy.orm import Session

from exchange.errors import BadRequest
from exchange.orgs.models import Org
from exchange.stix import observables, tlp, validate
from exchange.stix.models import Collection, Observable, StixObject
from exchange.stix.timestamps import now_micros, to_micros

Status = Literal["added", "duplicate", "rejected"]
_ADVISORY_LOCK_KEY = 0x5715_0001  # serialises ingests on PostgreSQL (see _lock)
_LOOKUP_CHUNK = 500
# Types whose objects never get new versions (STIX 2.1 sections 6 and 7.2).
_SCO_TYPES = frozenset({
    "artifact", "autonomous-system", "directory", "domain-name", "email-addr", "email-message", "file",
    "ipv4-addr", "ipv6-addr", "mac-addr", "mutex", "network-traffic", "process", "software", "url",
    "user-account", "windows-registry-key", "x509-certificate",
})


@dataclass(frozen=True, slots=True)
class ObjectResult:
    id: str | None
    version: str | None
    status: Status
    message: str = ""


@dataclass(slots=True)
class IngestResult:
    results: list[ObjectResult] = field(default_factory=list)

    def count(self, status: Status) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def added(self) -> int:
        return self.count("added")

    @property
    def duplicates(self) -> int:
        return self.count("duplicate")

    @property
    def rejected(self) -> int:
        return self.count("rejected")


def unversioned(stix_type: str) -> bool:
    return stix_type in _SCO_TYPES or stix_type == "marking-definition"


def objects_of(payload: bytes | str | dict[str, Any] | list[Any]) -> list[Any]:
    """The objects of a bundle, a list, or a single object; JSON text is parsed with orjson."""
    if isinstance(payload, bytes | str):
        try:
            payload = orjson.loads(payload)
        except orjson.JSONDecodeError as exc:
            raise BadRequest(f"the body is not valid JSON: {exc}") from None
    if isinstance(payload, list):
        return payload
    if isinstance(payload, dict):
        if payload.get("type") == "bundle" or "objects" in payload:
            objects = payload.get("objects", [])
            if not isinstance(objects, list):
                raise BadRequest("'objects' must be a JSON array")
            return objects
        return [payload]
    raise BadRequest("expected a STIX bundle, an envelope, a list of objects or one object")


@dataclass(slots=True)
class _Candidate:
    index: int
    obj: dict[str, Any]
    modified: int
    version: str | None


def ingest(
    session: Session,
    payload: bytes | str | dict[str, Any] | list[Any],
    *,
    collection: Collection,
    org: Org | None = None,
) -> IngestResult:
    objects = objects_of(payload)
    results: list[ObjectResult | None] = [None] * len(objects)
    candidates: list[_Candidate] = []
    for i, obj in enumerate(objects):
        rejection = validate.check(obj)
        if rejection is not None:
            stix_id = obj.get("id") if isinstance(obj, dict) else None
            results[i] = ObjectResult(stix_id if isinstance(stix_id, str) else None, None, "rejected", str(rejection))
            continue
        version = obj.get("modified") or obj.get("created")
        modified = to_micros(version) if version else 0
        if modified is None:  # unreachable while strict timestamp rules hold; kept as a hard stop
            results[i] = ObjectResult(obj["id"], None, "rejected", "timestamp: unreadable version timestamp")
            continue
        candidates.append(_Candidate(i, obj, modified, version))

    if candidates:
        _lock(session, collection)
        for i, result in _store(session, candidates, collection, org).items():
            results[i] = result
    return IngestResult([r for r in results if r is not None])


def _lock(session: Session, collection: Collection) -> None:
    """Serialise ingests until commit, so insert order (pk) is commit order and cursors never skip a row.

    On PostgreSQL an advisory lock; on SQLite the first write of the transaction takes the database
    write lock, and that write (the collection's ``updated_at``) is wanted anyway.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ADVISORY_LOCK_KEY})
    session.execute(update(Collection).where(Collection.pk == collection.pk).values(updated_at=now_micros()))


def _allocate_pks(session: Session, n: int) -> list[int]:
    """Keys for ``n`` new rows, taken up front so rows and observables go in as two executemany calls
    (SQLite cannot return generated keys of a multi-row insert in order without one statement per row).
    """
    if session.get_bind().dialect.name == "postgresql":
        return list(session.scalars(
            text("SELECT nextval(pg_get_serial_sequence('stix_object', 'pk')) FROM generate_series(1, :n)"),
            {"n": n},
        ))
    top = session.scalar(text(
        "SELECT MAX(v) FROM (SELECT MAX(pk) AS v FROM stix_object "
        "UNION ALL SELECT seq FROM sqlite_sequence WHERE name = 'stix_object')"
    ))
    start = (top or 0) + 1
    return list(range(start, start + n))


def _existing(session: Session, collection_pk: int, ids: list[str]) -> dict[str, list[tuple[int, bool]]]:
    """(modified, revoked) of every stored version of the given ids."""
    found: dict[str, list[tuple[int, bool]]] = {}
    for start in range(0, len(ids), _LOOKUP_CHUNK):
        chunk = ids[start:start + _LOOKUP_CHUNK]
        rows = session.execute(
            select(StixObject.stix_id, StixObject.modified, StixObject.revoked).where(
                StixObject.collection_pk == collection_pk, StixObject.stix_id.in_(chunk)
            )
        )
        for stix_id, modified, revoked in rows:
            found.setdefault(stix_id, []).append((modified, revoked))
    return found


def _store(
    session: Session, candidates: list[_Candidate], collection: Collection, org: Org | None
) -> dict[int, ObjectResult]:
    results: dict[int, ObjectResult] = {}
    existing = _existing(session, collection.pk, list(dict.fromkeys(c.obj["id"] for c in candidates)))
    default_tlp = tlp.Tlp(collection.default_tlp)
    now = now_micros()
    rows: list[dict[str, Any]] = []
    accepted: list[_Candidate] = []
    superseded: set[str] = set()
    for c in candidates:
        stix_id: str = c.obj["id"]
        versions = existing.setdefault(stix_id, [])
        message = _refusal(c, versions)
        if message is not None:
            status: Status = "duplicate" if message.startswith("duplicate") else "rejected"
            results[c.index] = ObjectResult(stix_id, c.version, status, message)
            continue
        newest = all(c.modified > m for m, _ in versions)
        if newest and versions:
            superseded.add(stix_id)
        versions.append((c.modified, bool(c.obj.get("revoked", False))))
        rows.append(_row(c, collection.pk, default_tlp, org, now, newest))
        accepted.append(c)
        results[c.index] = ObjectResult(stix_id, c.version, "added")
    _clear_latest(session, collection.pk, superseded, rows)
    if rows:
        pks = _allocate_pks(session, len(rows))
        for pk, row in zip(pks, rows, strict=True):
            row["pk"] = pk
        conn = session.connection()  # Core executemany: the ORM's per-row bookkeeping is not needed here
        conn.execute(insert(StixObject.__table__), rows)
        obs_rows = [
            {"object_pk": pk, "kind": e.kind, "value": e.value, "ip_lo": e.ip_lo, "ip_hi": e.ip_hi}
            for pk, c in zip(pks, accepted, strict=True)
            for e in observables.extract(c.obj)
        ]
        if obs_rows:
            conn.execute(insert(Observable.__table__), obs_rows)
    return results


def _refusal(c: _Candidate, versions: list[tuple[int, bool]]) -> str | None:
    """Why this version is not stored (duplicates count as successes), or None to store it."""
    if not versions:
        return None
    if unversioned(c.obj["type"]):
        return "duplicate: unversioned object already stored"
    if any(m == c.modified for m, _ in versions):
        return "duplicate: this version is already stored"
    if any(revoked for _, revoked in versions):
        return "revoked: the object was revoked; revocation is final"
    return None


def _clear_latest(session: Session, collection_pk: int, superseded: set[str], rows: list[dict[str, Any]]) -> None:
    """Only the newest version of an id is ``is_latest``: stored ones and earlier rows of this batch."""
    ids = sorted(superseded)
    for start in range(0, len(ids), _LOOKUP_CHUNK):
        session.execute(
            update(StixObject)
            .where(
                StixObject.collection_pk == collection_pk,
                StixObject.stix_id.in_(ids[start:start + _LOOKUP_CHUNK]),
                StixObject.is_latest,
            )
            .values(is_latest=False)
        )
    newest: dict[str, dict[str, Any]] = {}
    for row in rows:
        current = newest.get(row["stix_id"])
        if current is None or row["modified"] > current["modified"]:
            if current is not None:
                current["is_latest"] = False
            newest[row["stix_id"]] = row
        else:
            row["is_latest"] = False


def _row(
    c: _Candidate, collection_pk: int, default_tlp: tlp.Tlp, org: Org | None, now: int, newest: bool
) -> dict[str, Any]:
    obj = c.obj
    valid_from, valid_until = obj.get("valid_from"), obj.get("valid_until")
    return {
        "collection_pk": collection_pk,
        "stix_id": obj["id"],
        "type": obj["type"],
        "spec_version": obj.get("spec_version", "2.1"),
        "modified": c.modified,
        "created_by_ref": obj.get("created_by_ref"),
        "tlp": tlp.level_of(obj, default_tlp).value,
        "revoked": bool(obj.get("revoked", False)),
        "is_latest": newest,
        "valid_from": to_micros(valid_from) if isinstance(valid_from, str) else None,
        "valid_until": to_micros(valid_until) if isinstance(valid_until, str) else None,
        "date_added": now,
        "publisher_org_pk": org.pk if org is not None else None,
        "raw": orjson.dumps(obj),
    }
