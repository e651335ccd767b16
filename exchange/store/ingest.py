"""The one ingest path: TAXII POST, REST, CLI import and connectors all call ``ingest``.

A batch is one transaction (the caller's): valid objects are stored with their observables,
invalid ones are reported and skipped, and a database error leaves nothing of the batch behind.
Versioning follows STIX 2.1 (section 3.6): (id, modified) is unique, so re-sending a version is a
reported success that changes nothing; the newest ``modified`` is the current version; a revoked
object is final; SCOs and marking definitions are never versioned, and are kept once per publisher
and collection (their ids are derived from their content, so several organisations report the same one).
A versioned object lives in one collection, the one it was first published to: versions posted to
another are refused, so one version is current hub-wide and revocation is final everywhere
(docs/decisions/0003-access.md, "Versions").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import JSON, BigInteger, String, bindparam, cast, func, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import TableValuedAlias

from exchange.core.timestamps import now_micros
from exchange.orgs.models import Org, Role
from exchange.stix.hub_rules import Author
from exchange.stix.prepare import (
    OBJECT_COLUMNS,
    OBSERVABLE_COLUMNS,
    Candidate,
    ObjectResult,
    Payload,
    Prepared,
    Status,
    no_gc,
    prepare,
)
from exchange.store.models import Collection, ObjectRecipient, Observable, StixObject

__all__ = ["IngestResult", "ObjectResult", "ingest", "store", "store_parts"]

_ADVISORY_LOCK_KEY = 0x5715_0001  # serialises ingests on PostgreSQL (see _lock)
_Version = tuple[int, bool, int | None, int]  # (modified, revoked, publisher org pk, collection pk)
_Versions = dict[str, list[_Version]]
_ROW_COLUMNS = ("pk", "collection_pk", "date_added", "publisher_org_pk", "tlp", "is_latest", *OBJECT_COLUMNS)
# Types whose objects never get new versions (STIX 2.1 sections 6 and 7.2).
_UNVERSIONED = frozenset({
    "artifact", "autonomous-system", "directory", "domain-name", "email-addr", "email-message", "file",
    "ipv4-addr", "ipv6-addr", "mac-addr", "mutex", "network-traffic", "process", "software", "url",
    "user-account", "windows-registry-key", "x509-certificate", "marking-definition",
})


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

    @property
    def summary(self) -> str:
        """What the audit log says about an ingest."""
        return f"{self.added} added, {self.duplicates} duplicates, {self.rejected} rejected"


def author_of(session: Session, org: Org | None) -> Author | None:
    """Whom ``org``'s objects may name as their author (``hub_rules.Author``): itself; for csirt and
    isac organisations, which relay others' objects, also any identity that is not another member
    organisation's (decision 0003, "Relaying"). None (anyone) for hub admins and the CLI operator
    (``org`` None), who load objects authored by anyone."""
    if org is None or org.is_hub_admin:
        return None
    if org.role not in (Role.csirt, Role.isac):
        return Author(org.identity_id)
    members = session.scalars(select(Org.identity_id).where(Org.pk != org.pk))
    return Author(org.identity_id, relays=True, members=frozenset(members))


def ingest(
    session: Session,
    payload: Payload,
    *,
    collection: Collection,
    org: Org | None = None,
) -> IngestResult:
    """Publish as ``org``: a member organisation publishes as itself, a relayer also as non-members
    (``author_of``); admins (and the CLI operator) may load objects authored by anyone."""
    author = author_of(session, org)
    return store(session, prepare(payload, author), collection=collection, org=org)


def store(session: Session, prepared: Prepared, *, collection: Collection, org: Org | None) -> IngestResult:
    return store_parts(session, [prepared], collection=collection, org=org)[0]


def store_parts(session: Session, parts: Sequence[Prepared], *, collection: Collection,
                org: Org | None) -> list[IngestResult]:
    """Several prepared batches of one publisher in one transaction, in order, each with its own
    result (the ingest queue's merged envelopes). Read as one batch: a later part sees an earlier
    one's objects, as it would had they been stored first."""
    candidates = [c for part in parts for c in part.candidates]
    verdicts: list[ObjectResult] = []
    if candidates:
        _lock(session, collection)
        with no_gc():
            verdicts = _store(session, candidates, collection, org)
    results: list[IngestResult] = []
    start = 0
    for part in parts:
        end = start + len(part.candidates)
        if part.rejected:
            by_position = dict(part.rejected)
            by_position.update((c.position, r) for c, r in zip(part.candidates, verdicts[start:end], strict=True))
            results.append(IngestResult([by_position[i] for i in range(part.size)]))
        else:  # every object is a candidate, in order
            results.append(IngestResult(verdicts[start:end]))
        start = end
    return results


def _lock(session: Session, collection: Collection) -> None:
    """Serialise ingests until commit, so insert order (pk) is commit order and cursors never skip a row.

    On PostgreSQL an advisory lock; on SQLite the first write of the transaction takes the database
    write lock, and that write (the collection's ``updated_at``) is wanted anyway.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ADVISORY_LOCK_KEY})
        # Ingest only looks rows up by key. Without fresh statistics (a table growing faster than
        # autovacuum analyses it, or autovacuum off) PostgreSQL planned those look-ups as sequential
        # scans of the whole table (decision 0001, "PostgreSQL"); never here.
        session.execute(text("SET LOCAL enable_seqscan = off"))
    session.execute(update(Collection).where(Collection.pk == collection.pk).values(updated_at=now_micros()))


def _allocate_pks(session: Session, n: int) -> list[int]:
    """Keys for ``n`` new rows, taken up front so rows and observables go in as two executemany calls
    (SQLite cannot return generated keys of a multi-row insert in order without one statement per row).

    On PostgreSQL the sequence is moved past all ``n`` at once, which is safe because every insert
    into ``stix_object`` comes through here, under the ingest lock (``_lock``); ``nextval`` once per
    row was one of the per-object costs of decision 0006.
    """
    if session.get_bind().dialect.name == "postgresql":
        last = session.scalar(text("SELECT setval(s::regclass, nextval(s::regclass) + :n - 1) "
                                   "FROM pg_get_serial_sequence('stix_object', 'pk') AS s"), {"n": n})
        return list(range(int(last) - n + 1, int(last) + 1))
    top = session.scalar(text(
        "SELECT MAX(v) FROM (SELECT MAX(pk) AS v FROM stix_object "
        "UNION ALL SELECT seq FROM sqlite_sequence WHERE name = 'stix_object')"
    ))
    start = (top or 0) + 1
    return list(range(start, start + n))


def _date_added_start(session: Session) -> int:
    """date_added of the first new row: now, but always after the newest stored row.

    Each row gets its own microsecond, so date_added strictly increases with pk: a client that
    resumes with ``added_after=<X-TAXII-Date-Added-Last>`` gets exactly the rows it has not seen,
    even when a page ended in the middle of a batch.
    """
    last = session.scalar(select(StixObject.date_added).order_by(StixObject.pk.desc()).limit(1))
    return max(now_micros(), (last or 0) + 1)


@dataclass(slots=True)
class _Stored:
    """What is stored of a batch's ids, in every collection (see ``_existing``)."""

    versions: _Versions = field(default_factory=dict)
    current: dict[str, list[int]] = field(default_factory=dict)  # pks of current versions
    producers: dict[str, set[int | None]] = field(default_factory=dict)  # who published each id
    homes: dict[str, tuple[int, int]] = field(default_factory=dict)  # (pk, collection pk) of its first row


def _existing(session: Session, ids: list[str]) -> _Stored:
    """Every stored version of the given ids, in any collection: the producer rule looks at all of
    them, a versioned object's versions are all of them (it lives in one collection, its *home*, the
    one of its first stored row), and SCOs keep their per-collection copies apart in ``_store``.

    Filters on ``stix_id`` only, which leaves the planner a single index to use (see also ``_lock``):
    one index probe per id, a join rather than ``IN``. PostgreSQL rechecks each row a hash index
    returns against the condition, which against a 10,000-id ``IN`` list was far slower than the
    join (decision 0007).
    """
    stored = _Stored()
    columns = (StixObject.stix_id, StixObject.collection_pk, StixObject.modified, StixObject.revoked,
               StixObject.is_latest, StixObject.pk, StixObject.publisher_org_pk)
    wanted = _values(session, ids)
    rows = session.execute(select(*columns).join(wanted, StixObject.stix_id == wanted.c.value))
    for stix_id, row_collection, modified, revoked, is_latest, pk, publisher in rows:
        stored.producers.setdefault(stix_id, set()).add(publisher)
        stored.versions.setdefault(stix_id, []).append((modified, revoked, publisher, row_collection))
        if is_latest:
            stored.current.setdefault(stix_id, []).append(pk)
        home = stored.homes.get(stix_id)
        if home is None or pk < home[0]:
            stored.homes[stix_id] = (pk, row_collection)
    return stored


def _values(session: Session, values: list[str] | list[int]) -> TableValuedAlias:
    """``values`` as a one-column table (``.c.value``) sent as one JSON parameter, however many there
    are. 20 ``IN`` lists of 500 parameters cost several times as much (decision 0006), and so did a
    PostgreSQL array, most of it the driver converting the array element by element (decision 0007)."""
    array = orjson.dumps(values).decode()
    if session.get_bind().dialect.name == "postgresql":
        return func.json_array_elements_text(cast(bindparam("values", array, String), JSON)).table_valued(
            "value").render_derived()
    return func.json_each(array).table_valued("value")


def _store(
    session: Session, candidates: list[Candidate], collection: Collection, org: Org | None
) -> list[ObjectResult]:
    """The verdict on each candidate, in order; the accepted ones are inserted."""
    results: list[ObjectResult] = []
    ids = list(dict.fromkeys(c.stix_id for c in candidates))
    stored = _existing(session, ids)
    existing, current = stored.versions, stored.current
    publisher = org.pk if org is not None and org.pk else None
    producer_only = org is not None and not org.is_hub_admin
    recipients = _recipient_orgs(session, candidates)
    others_identities = _others_identities(session, candidates, publisher) if producer_only else set()
    accepted: list[tuple[int, Candidate]] = []  # with their candidate index
    latest: dict[int, bool] = {}  # candidate index -> is_latest
    newest: dict[str, int] = {}  # stix id -> index of its newest accepted candidate
    superseded: list[int] = []  # pks of stored versions that stop being current
    homes: dict[int, str] = {}  # collection pk -> id, for refusals
    for k, c in enumerate(candidates):
        refusal = _named_refusal(c, recipients)
        if refusal is None and producer_only:
            refusal = _producer_refusal(c, stored.producers.get(c.stix_id, set()), publisher, others_identities)
        if refusal is None:
            refusal = _home_refusal(session, c, stored.homes.get(c.stix_id), collection, homes)
        if refusal is not None:
            results.append(refusal)
            continue
        versions = existing.get(c.stix_id)
        if c.type in _UNVERSIONED and versions is not None:
            # Kept once per publisher and collection: another reporter's copy (at its own TLP) neither
            # hides this one nor is revealed by it.
            versions = [v for v in versions if v[2] == publisher and v[3] == collection.pk] or None
        if versions is None:  # the common case: an object the hub has never seen
            existing.setdefault(c.stix_id, []).append((c.modified, c.revoked, publisher, collection.pk))
            latest[k] = True
            newest[c.stix_id] = k
        else:
            refusal = _refusal(c, versions)
            if refusal is not None:
                results.append(refusal)
                continue
            is_latest = latest[k] = all(c.modified > v[0] for v in versions)
            if is_latest:
                superseded.extend(current.pop(c.stix_id, ()))
                previous = newest.get(c.stix_id)
                if previous is not None:  # an older version earlier in this batch
                    latest[previous] = False
                newest[c.stix_id] = k
            versions.append((c.modified, c.revoked, publisher, collection.pk))
        accepted.append((k, c))
        results.append(ObjectResult(c.stix_id, c.version, "added"))
    if accepted:
        _clear_latest(session, superseded)
        pks = _allocate_pks(session, len(accepted))
        added = _date_added_start(session)
        default_tlp = collection.default_tlp
        rows = [(pk, collection.pk, added + i, publisher, c.marked_tlp or default_tlp, latest[k], *c.values)
                for i, (pk, (k, c)) in enumerate(zip(pks, accepted, strict=True))]
        _insert(session, StixObject, _ROW_COLUMNS, rows)
        obs = [(pk, *o) for pk, (_, c) in zip(pks, accepted, strict=True) for o in c.observables]
        if obs:
            _insert(session, Observable, ("object_pk", *OBSERVABLE_COLUMNS), obs)
        named = [(pk, recipients[r]) for pk, (_, c) in zip(pks, accepted, strict=True)
                 for r in dict.fromkeys(c.recipients)]
        if named:
            _insert(session, ObjectRecipient, ("object_pk", "org_pk"), named)
    return results


def _recipient_orgs(session: Session, candidates: list[Candidate]) -> dict[str, int]:
    """Organisation pk of every identity the batch names as a recipient."""
    named = {r for c in candidates for r in c.recipients}
    if not named:
        return {}
    rows = session.execute(select(Org.identity_id, Org.pk).where(Org.identity_id.in_(sorted(named))))
    return dict(rows.all())


def _named_refusal(c: Candidate, recipients: dict[str, int]) -> ObjectResult | None:
    unknown = [r for r in c.recipients if r not in recipients]
    if not unknown:
        return None
    return ObjectResult(c.stix_id, c.version, "rejected",
                        f"x_exchange_recipients: no organisation here has identity {unknown[0]}")


def _producer_refusal(c: Candidate, producers: set[int | None], publisher: int | None,
                      others_identities: set[str]) -> ObjectResult | None:
    """A member organisation may not version (or revoke) an object another one published, in any
    collection (STIX lets only an object's creator version it), nor publish another's identity."""
    if c.stix_id in others_identities:
        return ObjectResult(c.stix_id, c.version, "rejected",
                            "identity: this is another organisation's identity; only it publishes it")
    if c.type not in _UNVERSIONED and any(p != publisher for p in producers):
        return ObjectResult(c.stix_id, c.version, "rejected",
                            "producer: another organisation published this object; only it may version or revoke it")
    return None


def _others_identities(session: Session, candidates: list[Candidate], publisher: int | None) -> set[str]:
    """Ids of identity objects in the batch that are other organisations' identities."""
    named = sorted({c.stix_id for c in candidates if c.type == "identity"})
    if not named:
        return set()
    return set(session.scalars(select(Org.identity_id).where(Org.identity_id.in_(named), Org.pk != publisher)))


def _home_refusal(session: Session, c: Candidate, home: tuple[int, int] | None, collection: Collection,
                  homes: dict[int, str]) -> ObjectResult | None:
    """A versioned object lives in the collection it was first published to, for every publisher,
    admins included: versions elsewhere would leave an older, laxer copy current in its first
    collection, show two current versions of one id, and let a revoked object live on. Checked
    before duplicates, so a copy of a stored version posted elsewhere is refused, not "duplicate".

    The message names the home collection's id, which only the producer (members meet the producer
    rule first) or an admin gets to read; it costs a query, but only on this rare path.
    """
    if c.type in _UNVERSIONED or home is None or home[1] == collection.pk:
        return None
    if home[1] not in homes:
        homes[home[1]] = session.scalar(select(Collection.id).where(Collection.pk == home[1])) or "?"
    return ObjectResult(c.stix_id, c.version, "rejected",
                        f"collection: this object lives in collection {homes[home[1]]}; post its versions there")


def _refusal(c: Candidate, versions: list[_Version]) -> ObjectResult | None:
    """Why this version is not stored (duplicates count as successes), or None to store it."""
    if c.type in _UNVERSIONED:  # ``versions`` are this publisher's own copies in this collection
        return ObjectResult(c.stix_id, c.version, "duplicate", "duplicate: unversioned object already stored")
    if any(v[0] == c.modified for v in versions):
        return ObjectResult(c.stix_id, c.version, "duplicate", "duplicate: this version is already stored")
    if any(v[1] for v in versions):
        return ObjectResult(c.stix_id, c.version, "rejected", "revoked: the object was revoked; revocation is final")
    return None


def _clear_latest(session: Session, pks: list[int]) -> None:
    """Stored versions stop being current when a newer one arrives."""
    if pks:
        current = select(cast(_values(session, pks).c.value, BigInteger))
        session.execute(update(StixObject).where(StixObject.pk.in_(current)).values(is_latest=False))


def _insert(session: Session, model: type[StixObject | Observable | ObjectRecipient], columns: tuple[str, ...],
            rows: list[tuple[Any, ...]]) -> None:
    """Bulk insert, the hot path of ingest, in each database's fastest way: binary COPY on PostgreSQL,
    the driver's executemany on SQLite. SQLAlchemy's per-row parameter handling cost as much as the
    database's own work on both (decision 0001, "Ingest"); binary COPY takes a third of text COPY's
    time, with no escaping and no hex (decision 0006).
    Table and column names come from our own models, never from input.
    """
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        from psycopg.types.string import BytesBinaryDumper  # the PostgreSQL extra's driver

        names = ", ".join(columns)
        statement = f"COPY {model.__tablename__} ({names}) FROM STDIN (FORMAT BINARY)"
        try:
            with conn.connection.driver_connection.cursor() as cursor:  # type: ignore[union-attr]
                # By type oid psycopg picks the DB-API ``Binary`` wrapper's dumper for bytea, a Python
                # method per value; the plain one is compiled (decision 0006).
                cursor.adapters.register_dumper(bytes, BytesBinaryDumper)
                # Binary COPY needs each column's exact type: the table's own, as the database reports it.
                cursor.execute(f"SELECT {names} FROM {model.__tablename__} LIMIT 0")  # noqa: S608
                types = [column.type_code for column in cursor.description or ()]
                with cursor.copy(statement) as copy:
                    copy.set_types(types)
                    for row in rows:
                        copy.write_row(row)
        except conn.dialect.loaded_dbapi.Error as exc:  # raised like every other database error
            raise DBAPIError.instance(statement, None, exc, conn.dialect.loaded_dbapi.Error) from exc
        return
    sql = f"INSERT INTO {model.__tablename__} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"  # noqa: S608
    conn.exec_driver_sql(sql, rows)
