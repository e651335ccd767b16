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

Here the entry points and the verdict on each candidate; ``ingest_rules`` says what is refused and
why, ``ingest_rows`` writes what is accepted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from exchange.core.timestamps import now_micros
from exchange.orgs.models import Org, Role
from exchange.stix.hub_rules import Author
from exchange.stix.prepare import (
    OBSERVABLE_COLUMNS,
    Candidate,
    ObjectResult,
    Payload,
    Prepared,
    Status,
    no_gc,
    prepare,
)
from exchange.store import ingest_rows as rows
from exchange.store import ingest_rules as rules
from exchange.store.models import Collection, ObjectRecipient, ObjectRef, Observable, StixObject

__all__ = ["IngestResult", "ObjectResult", "ingest", "store", "store_parts"]

_ADVISORY_LOCK_KEY = 0x5715_0001  # serialises ingests on PostgreSQL (see _lock)
_LOCK = text("SELECT pg_advisory_xact_lock(:k), set_config('enable_seqscan', 'off', true), "
             "set_config('jit', 'off', true)")  # one round trip; true: until the transaction ends, as SET LOCAL


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
        # Ingest only looks rows up by key. Without fresh statistics (a table growing faster than
        # autovacuum analyses it, or autovacuum off) PostgreSQL planned those look-ups as sequential
        # scans of the whole table (decision 0001, "PostgreSQL"); never here. A scan it cannot avoid
        # (the COPY's column types, a table of five organisations) then costs 10^10, far above
        # jit_above_cost, and was compiled to machine code: 25-100 ms a statement, so no JIT either.
        session.execute(_LOCK, {"k": _ADVISORY_LOCK_KEY})
    session.execute(update(Collection).where(Collection.pk == collection.pk).values(updated_at=now_micros()))


def _store(
    session: Session, candidates: list[Candidate], collection: Collection, org: Org | None
) -> list[ObjectResult]:
    """The verdict on each candidate, in order; the accepted ones are inserted."""
    results: list[ObjectResult] = []
    ids = list(dict.fromkeys(c.stix_id for c in candidates))
    stored = rules.existing(session, ids)
    existing, current = stored.versions, stored.current
    publisher = org.pk if org is not None and org.pk else None
    producer_only = org is not None and not org.is_hub_admin
    recipients = rules.recipient_orgs(session, candidates)
    others_identities = rules.others_identities(session, candidates, publisher) if producer_only else set()
    accepted: list[tuple[int, Candidate]] = []  # with their candidate index
    latest: dict[int, bool] = {}  # candidate index -> is_latest
    newest: dict[str, int] = {}  # stix id -> index of its newest accepted candidate
    superseded: list[int] = []  # pks of stored versions that stop being current
    homes: dict[int, str] = {}  # collection pk -> id, for refusals
    collection_pk = collection.pk  # read once: an ORM attribute costs a method call per read
    for k, c in enumerate(candidates):
        refusal = rules.named_refusal(c, recipients) if c.recipients else None
        if refusal is None and producer_only:
            refusal = rules.producer_refusal(c, stored.producers.get(c.stix_id, set()), publisher, others_identities)
        if refusal is None and c.stix_id in stored.homes:
            refusal = rules.home_refusal(session, c, stored.homes[c.stix_id], collection, homes)
        if refusal is not None:
            results.append(refusal)
            continue
        versions = existing.get(c.stix_id)
        if c.type in rules.UNVERSIONED and versions is not None:
            # Kept once per publisher and collection: another reporter's copy (at its own TLP) neither
            # hides this one nor is revealed by it.
            versions = [v for v in versions if v[2] == publisher and v[3] == collection_pk] or None
        if versions is None:  # the common case: an object the hub has never seen
            existing.setdefault(c.stix_id, []).append((c.modified, c.revoked, publisher, collection_pk))
            latest[k] = True
            newest[c.stix_id] = k
        else:
            refusal = rules.version_refusal(c, versions)
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
            versions.append((c.modified, c.revoked, publisher, collection_pk))
        accepted.append((k, c))
        results.append(ObjectResult(c.stix_id, c.version, "added"))
    if accepted:
        rows.clear_latest(session, superseded)
        pks = rows.allocate_pks(session, len(accepted))
        added = rows.date_added_start(session)
        default_tlp = collection.default_tlp
        new = [(pk, collection_pk, added + i, publisher, c.marked_tlp or default_tlp, latest[k], *c.values)
               for i, (pk, (k, c)) in enumerate(zip(pks, accepted, strict=True))]
        rows.insert(session, StixObject, rows.ROW_COLUMNS, new)
        if publisher is not None:
            rows.tally(session, publisher, added, len(new))
        obs = [(pk, *o) for pk, (_, c) in zip(pks, accepted, strict=True) for o in c.observables]
        if obs:
            rows.insert(session, Observable, ("object_pk", *OBSERVABLE_COLUMNS), obs)
        refs = [(ref, pk) for pk, (_, c) in zip(pks, accepted, strict=True) for ref in c.refs]
        if refs:
            rows.insert(session, ObjectRef, ("ref", "object_pk"), refs)
        named = [(pk, recipients[r]) for pk, (_, c) in zip(pks, accepted, strict=True)
                 for r in dict.fromkeys(c.recipients)]
        if named:
            rows.insert(session, ObjectRecipient, ("object_pk", "org_pk"), named)
    return results


