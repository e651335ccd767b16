"""What the object versions stored past the cursor are about: read from the database, only what can match.

The observable table is read for the batch's key range and only for the kinds the inventory can match
(no hashes when nobody registers a hash, no URLs without URL assets), and each value goes through the
in-memory index (``finders``). Whole objects are read only for the types matched from their JSON
(vulnerabilities, advisories, exposure findings, AS numbers, ``mitigates`` relationships), and the
version row (is it current, revoked, who published it) only for objects that hit something, about one
in a hundred. So the cost of a batch follows the few objects that concern somebody, not the many that
do not; "is this the current version" is decided in SQL.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import orjson
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from exchange.alerts.finders import Finders, Hit, addresses, asn_numbers
from exchange.alerts.models import AlertKind
from exchange.core.db import PREPARED
from exchange.sharing import access
from exchange.stix.observables import Extracted
from exchange.store.bulk import batched
from exchange.store.ingest_rows import pairs_json, pairs_table
from exchange.store.models import Observable, StixObject

CHUNK = 2_000  # pairs or ids per statement: well under every driver's parameter limit
# Types matched from their JSON rather than (only) from the observable table.
RAW_TYPES = ("vulnerability", "report", "course-of-action", "observed-data", "sighting", "autonomous-system",
             "relationship")


class Row(NamedTuple):
    """A current object version, as the no-noise rules need it."""

    pk: int
    stix_id: str
    type: str
    modified: int
    revoked: bool
    valid_until: int | None
    publisher: int | None


ROW = (StixObject.pk, StixObject.stix_id, StixObject.type, StixObject.modified, StixObject.revoked,
       StixObject.valid_until, StixObject.publisher_org_pk)


class Mitigation(NamedTuple):
    """A ``relationship`` saying a course of action mitigates an object (which may have alerted)."""

    row: Row  # the relationship's version
    course_of_action: str  # its source_ref
    target: str  # its target_ref


@dataclass(slots=True)
class Batch:
    hits: list[tuple[Hit, Row]] = field(default_factory=list)
    raws: dict[int, dict[str, Any]] = field(default_factory=dict)  # pk -> JSON of the objects read whole
    mitigations: list[Mitigation] = field(default_factory=list)


def window(session: Session, after: int, limit: int) -> tuple[int, int]:
    """(how many, last pk) of the next ``limit`` stored versions after ``after``; (0, after) when none."""
    keys = select(StixObject.pk).where(StixObject.pk > after).order_by(StixObject.pk).limit(limit).subquery()
    count, last = session.execute(select(func.count(), func.max(keys.c.pk))).one()
    return int(count), int(last) if last is not None else after


def collect(session: Session, finders: Finders, first: int, last: int) -> Batch:
    """Hits of the current versions with ``first < pk <= last``, each with its version row."""
    batch = Batch()
    pending: list[tuple[Hit, int]] = []
    kinds = finders.index.observable_kinds()
    if kinds:
        observable = finders.observable
        # Core, through the session's connection: the ORM's result handling doubled the cost of these rows.
        for pk, kind, value, lo, hi in session.connection().execute(
                select(Observable.object_pk, Observable.kind, Observable.value, Observable.ip_lo, Observable.ip_hi)
                .where(Observable.object_pk > first, Observable.object_pk <= last, Observable.kind.in_(kinds))):
            hits = observable(kind, value, lo, hi)
            if hits:  # one value in a hundred: no generator for the others
                pending.extend((hit, pk) for hit in hits)
    rows = _whole(session, finders, first, last, batch)
    batch.hits.extend(_from_json(session, finders, rows, batch))
    rows.update(_rows(session, sorted({pk for _, pk in pending} - rows.keys()), batch))
    batch.hits.extend((hit, rows[pk]) for hit, pk in pending if pk in rows)  # superseded versions drop out
    return batch


def _whole(session: Session, finders: Finders, first: int, last: int, batch: Batch) -> dict[int, Row]:
    """Current versions of the types matched from their JSON, parsed; indicators only when someone
    registered an AS number (patterns compare those, and the observable table does not hold them)."""
    types = (*RAW_TYPES, "indicator") if finders.index.has_asns else RAW_TYPES
    rows: dict[int, Row] = {}
    for result in session.connection().execute(
            select(*ROW, StixObject.raw).where(StixObject.pk > first, StixObject.pk <= last,
                                                StixObject.type.in_(types), StixObject.is_latest.is_(True))):
        row, raw = Row._make(result[:-1]), result[-1]
        # cheap byte tests first: most relationships and indicators are about something else
        if (row.type == "relationship" and b"mitigates" not in raw) or (
                row.type == "indicator" and b"autonomous-system" not in raw):
            continue
        rows[row.pk] = row
        batch.raws[row.pk] = orjson.loads(raw)
    return rows


def _rows(session: Session, pks: Sequence[int], batch: Batch) -> dict[int, Row]:
    """Version rows (and JSON, for the grade) of the objects that hit something, if still current."""
    rows: dict[int, Row] = {}
    for chunk in batched(pks, CHUNK):
        for result in session.connection().execute(select(*ROW, StixObject.raw).where(
                StixObject.pk.in_(chunk), StixObject.is_latest.is_(True))):
            row, raw = Row._make(result[:-1]), result[-1]
            rows[row.pk] = row
            batch.raws[row.pk] = orjson.loads(raw)
    return rows


def _from_json(session: Session, finders: Finders, rows: dict[int, Row], batch: Batch) -> Iterator[tuple[Hit, Row]]:
    scos = _referenced_scos(session, batch.raws.values())
    for pk, row in rows.items():
        obj = batch.raws[pk]
        if row.type == "observed-data":
            named, numbers = addresses(obj, scos)
            yield from ((h, row) for h in finders.observables(named, kind=AlertKind.exposure, lookalike=False))
            yield from ((h, row) for h in finders.asns(numbers, AlertKind.exposure))
        elif row.type == "sighting":
            for ref in obj.get("observed_data_refs") or ():
                observed = scos.get(ref) if isinstance(ref, str) else None
                if observed:
                    yield from ((h, row) for h in finders.observables(observed, kind=AlertKind.exposure,
                                                                       lookalike=False))
        elif row.type == "vulnerability":
            yield from ((h, row) for h in finders.software(obj))
        elif row.type in ("report", "course-of-action"):
            yield from ((h, row) for h in finders.sectors(obj))
        elif row.type == "relationship":
            source, target = obj.get("source_ref"), obj.get("target_ref")
            if (obj.get("relationship_type") == "mitigates" and isinstance(source, str)
                    and source.startswith("course-of-action--") and isinstance(target, str)):
                batch.mitigations.append(Mitigation(row, source, target))
        else:  # indicators naming an AS, autonomous-system SCOs
            yield from ((h, row) for h in finders.asns(asn_numbers(obj)))


def _referenced_scos(session: Session, objects: Iterable[dict[str, Any]]) -> dict[str, list[Extracted]]:
    """Observables of the SCOs that observed-data in the batch reference, by id; for a sighting's observed
    data, the observables of the SCOs it references, under the observed-data's id."""
    refs: dict[str, None] = {}
    for obj in objects:
        if obj.get("type") == "observed-data":
            refs.update(dict.fromkeys(r for r in obj.get("object_refs") or () if isinstance(r, str)))
        elif obj.get("type") == "sighting":
            refs.update(dict.fromkeys(r for r in obj.get("observed_data_refs") or () if isinstance(r, str)))
    if not refs:
        return {}
    found: dict[str, list[Extracted]] = defaultdict(list)
    observed: list[tuple[str, dict[str, Any]]] = []
    sco_pks: dict[int, str] = {}
    for chunk in batched(refs, CHUNK):
        for stix_id, kind, pk, raw in session.execute(
                select(StixObject.stix_id, StixObject.type, StixObject.pk, StixObject.raw)
                .where(StixObject.stix_id.in_(chunk), StixObject.is_latest.is_(True))):
            if kind == "observed-data":
                observed.append((stix_id, orjson.loads(raw)))
            else:
                sco_pks[pk] = stix_id
    for keys in batched(sorted(sco_pks), CHUNK):  # one query for all the SCOs' observables, not one per SCO
        for result in session.execute(
                select(Observable.object_pk, Observable.kind, Observable.value, Observable.ip_lo, Observable.ip_hi)
                .where(Observable.object_pk.in_(keys))):
            found[sco_pks[result[0]]].append(Extracted._make(result[1:]))
    if observed:
        inner = _referenced_scos(session, (obj for _, obj in observed))
        for stix_id, obj in observed:
            found[stix_id].extend(addresses(obj, inner)[0])
    return found


def readable(session: Session, pairs: Iterable[tuple[int, int]]) -> set[tuple[int, int]]:
    """The (organisation, object version) pairs the read rule lets through: ``access.readers``, the one
    read rule (decision 0011), all pairs in one statement (they go as one parameter)."""
    wanted = sorted(set(pairs))
    if not wanted:
        return set()
    statement = _readers(session.get_bind().dialect.name)
    return {(org, pk) for org, pk in session.execute(statement, pairs_json(wanted))}


@functools.cache
def _readers(dialect: str) -> Select[int, int]:
    """``access.readers`` over the pairs parameter, built once: building it (the read rule's aliased subqueries)
    was a fifth of an inbox page's time. Prepared on PostgreSQL: planning it took 0.7 ms of every run, and the
    pairs are one JSON value, so one plan serves them all."""
    return access.readers(pairs_table(dialect, ("org_pk", "object_pk"))).execution_options(**PREPARED)
