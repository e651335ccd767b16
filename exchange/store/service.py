"""Reads of the STIX store: collections, object listings, single objects, observable look-ups.

Every object query is built on ``access.visible`` so the read rules are enforced in SQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Row, Select, select
from sqlalchemy.orm import Session

from exchange.core.errors import NotFound
from exchange.orgs.models import Org
from exchange.sharing import access, catalog
from exchange.stix import observables
from exchange.store.cursor import decode, encode, fingerprint, signing_key
from exchange.store.models import Collection, Observable, StixObject

DEFAULT_COLLECTION_ID = "9a3c2f4e-6b1d-4c8e-a5f7-2d0b8e61c4a9"  # created by migration 0001


def get_collection(session: Session, collection_id: str | None = None) -> Collection:
    return catalog.by_id(session, collection_id or DEFAULT_COLLECTION_ID)


@dataclass(frozen=True, slots=True)
class Page:
    objects: Sequence[Row[int, str, bytes]]  # pk, id, stored JSON
    next: str | None


def list_objects(
    session: Session,
    reader: Org | None,
    *,
    limit: int,
    cursor: str | None = None,
    types: Sequence[str] = (),
    value: str | None = None,
    added_since: int | None = None,
    collection: Collection | None = None,
) -> Page:
    """Current objects in insertion order, ``limit`` at a time; ``next`` continues after the last one.

    Plain rows, not ORM objects: exports walk millions of them.
    """
    key = signing_key(session)
    query_key = fingerprint("rest", tuple(types), value, added_since, collection.id if collection else None)
    query = (select(StixObject.pk, StixObject.stix_id, StixObject.raw)
             .where(access.visible(reader), StixObject.is_latest).order_by(StixObject.pk).limit(limit + 1))
    if cursor is not None:
        query = query.where(StixObject.pk > decode(key, cursor, query_key))
    if types:
        query = query.where(StixObject.type.in_(types))
    if added_since is not None:
        query = query.where(StixObject.date_added >= added_since)
    if collection is not None:
        query = query.where(StixObject.collection_pk == collection.pk)
    if value is not None:
        query = query.where(StixObject.pk.in_(_matching_objects(value)))
    rows = session.execute(query).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, encode(key, rows[-1].pk, query_key) if more else None)


def get_versions(session: Session, reader: Org | None, stix_id: str, *, all_versions: bool) -> list[StixObject]:
    """The current version (or every version, oldest first); 404 whether absent or not readable."""
    query = access.readable(reader).where(StixObject.stix_id == stix_id).order_by(StixObject.modified)
    if not all_versions:
        query = query.where(StixObject.is_latest)
    rows = list(session.scalars(query))
    if not rows:
        raise NotFound(f"no object {stix_id!r}")
    return rows


@dataclass(frozen=True, slots=True)
class Sighting:
    kind: str
    value: str
    object: StixObject


def lookup(session: Session, reader: Org | None, value: str, *, limit: int) -> list[Sighting]:
    """"Is this known bad?": observables equal to ``value`` (or, for an IP, ranges containing it)."""
    query = (
        select(Observable.kind, Observable.value, StixObject)
        .join(StixObject, StixObject.pk == Observable.object_pk)
        .where(access.visible(reader), StixObject.is_latest, _observable_match(value))
        .order_by(StixObject.pk.desc())
        .limit(limit)
    )
    return [Sighting(kind, val, obj) for kind, val, obj in session.execute(query)]


def _observable_match(value: str) -> ColumnElement[bool]:
    ip = observables.ip_observable(value)
    if ip is not None and ip.ip_lo is not None:
        return (Observable.ip_lo <= ip.ip_lo) & (Observable.ip_hi >= ip.ip_hi)
    candidates = {value.strip(), value.strip().lower(), observables.normalise_domain(value)}
    return Observable.value.in_(sorted(candidates))


def _matching_objects(value: str) -> Select[int]:
    return select(Observable.object_pk).where(_observable_match(value))
