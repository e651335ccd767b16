"""Every read of the STIX store: TAXII's filtered pages of one collection, REST's listing across
collections, single objects and their versions, observable look-ups; and TAXII's delete, which
selects the versions it removes exactly as a read does.

Every object query is built on ``access.visible``, so the read rules are part of the SQL. Paging
(``_page``, the one copy) is by ``pk`` (insertion order) with an encrypted cursor (AES-GCM), never
OFFSET, so a deep page costs what the first page costs. ``date_added`` grows with ``pk`` (see
``ingest``), so ``added_after`` turns into a ``pk`` boundary found through its own index.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import orjson
from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    Text,
    cast,
    delete,
    exists,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session, aliased

from exchange.core.errors import Forbidden, NotFound
from exchange.orgs.models import Org
from exchange.sharing import access, catalog
from exchange.stix import observables
from exchange.store import cursor
from exchange.store.models import Collection, ObjectRef, Observable, StixObject

DEFAULT_COLLECTION_ID = "9a3c2f4e-6b1d-4c8e-a5f7-2d0b8e61c4a9"  # created by migration 0001

Version = Literal["last", "first", "all"] | int


def get_collection(session: Session, collection_id: str | None = None) -> Collection:
    return catalog.by_id(session, collection_id or DEFAULT_COLLECTION_ID)


# What a page needs, read as plain rows: building ORM objects cost 4x the query itself (decision 0004).
_COLUMNS = (StixObject.pk, StixObject.stix_id, StixObject.date_added, StixObject.modified, StixObject.raw)
PageRow = Row[int, str, int, int, bytes]


@dataclass(frozen=True, slots=True)
class Page:
    rows: Sequence[PageRow]
    more: bool
    next: str | None = None


def _page(session: Session, query: Select[int, str, int, int, bytes], query_key: str, *, limit: int,
          next_token: str | None) -> Page:
    """``limit`` rows of ``query`` after the one ``next_token`` names; ``next`` is bound to
    ``query_key`` so a token cannot continue a different query."""
    key = cursor.signing_key(session)
    if next_token is not None:
        query = query.where(StixObject.pk > cursor.decode(key, next_token, query_key))
    rows = session.execute(query.order_by(StixObject.pk).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, more, cursor.encode(key, rows[-1].pk, query_key) if more else None)


@dataclass(frozen=True, slots=True)
class Filters:
    """TAXII ``match[...]`` and ``added_after``; versions are keywords or ``modified`` in microseconds."""

    ids: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    versions: tuple[Version, ...] = ("last",)
    spec_versions: tuple[str, ...] = ()
    added_after: int | None = None

    def key(self, collection: Collection, scope: str) -> str:
        return cursor.fingerprint(scope, collection.id, self.ids, self.types, self.versions, self.spec_versions,
                                  self.added_after)


def page(session: Session, reader: Org | None, collection: Collection, filters: Filters, *, limit: int,
         next_token: str | None = None, scope: str = "objects") -> Page:
    """TAXII: one page of matching object versions of one collection, oldest date_added first."""
    query = select(*_COLUMNS).where(*_conditions(reader, collection, filters))
    return _page(session, query, filters.key(collection, scope), limit=limit, next_token=next_token)


def list_objects(
    session: Session,
    reader: Org | None,
    *,
    limit: int,
    next_token: str | None = None,
    types: Sequence[str] = (),
    value: str | None = None,
    added_since: int | None = None,
    collection: Collection | None = None,
    tlp: Sequence[str] = (),
) -> Page:
    """REST, the web's object browser and exports: current objects in insertion order, in every collection
    ``reader`` may read (or one), at the TLP levels ``tlp`` (or any); exports walk millions of them."""
    query_key = cursor.fingerprint("rest", tuple(types), value, added_since, collection.id if collection else None,
                                   tuple(tlp))
    query = select(*_COLUMNS).where(*_current(reader, types, value, added_since, collection, tlp))
    return _page(session, query, query_key, limit=limit, next_token=next_token)


def count_objects(session: Session, reader: Org | None, *, upto: int, types: Sequence[str] = (),
                  value: str | None = None, added_since: int | None = None, collection: Collection | None = None,
                  tlp: Sequence[str] = ()) -> int:
    """How many objects ``list_objects`` would walk, counted up to ``upto`` at most: a bounded export asks
    whether it fits before it starts, at the cost of ``upto`` index entries, never of the whole store."""
    some = select(StixObject.pk).where(*_current(reader, types, value, added_since, collection, tlp)).limit(
        upto).subquery()
    return session.scalar(select(func.count()).select_from(some)) or 0


def _current(reader: Org | None, types: Sequence[str], value: str | None, added_since: int | None,
             collection: Collection | None, tlp: Sequence[str]) -> list[ColumnElement[bool]]:
    """The conditions of ``list_objects``: current versions ``reader`` may read, filtered."""
    where: list[ColumnElement[bool]] = [access.visible(reader), StixObject.is_latest.is_(True)]
    if types:
        where.append(StixObject.type.in_(types))
    if added_since is not None:
        where.append(StixObject.date_added >= added_since)
    if collection is not None:
        where.append(StixObject.collection_pk == collection.pk)
    if tlp:
        where.append(StixObject.tlp.in_(tlp))
    if value is not None:
        where.append(StixObject.pk.in_(select(Observable.object_pk).where(_observable_match(value))))
    return where


def _conditions(reader: Org | None, collection: Collection, f: Filters) -> list[ColumnElement[bool]]:
    where = [StixObject.collection_pk == collection.pk, access.visible(reader)]
    if f.ids:
        where.append(StixObject.stix_id.in_(f.ids))
    if f.types:
        where.append(StixObject.type.in_(f.types))
    if f.spec_versions:
        where.append(StixObject.spec_version.in_(f.spec_versions))
    if f.added_after is not None:
        boundary = (select(StixObject.pk).where(StixObject.date_added <= f.added_after)
                    .order_by(StixObject.date_added.desc()).limit(1).scalar_subquery())
        where.append(StixObject.pk > func.coalesce(boundary, 0))
    version = _versions(reader, f.versions)
    if version is not None:
        where.append(version)
    return where


def _versions(reader: Org | None, versions: tuple[Version, ...]) -> ColumnElement[bool] | None:
    """``first`` is the first version ``reader`` may see: a hidden first version would otherwise make
    the answer an empty page, which tells the reader that the object exists."""
    if "all" in versions:
        return None
    clauses: list[ColumnElement[bool]] = []
    if "last" in versions:
        clauses.append(StixObject.is_latest.is_(True))
    if "first" in versions:
        older = aliased(StixObject)
        clauses.append(~exists().where(older.stix_id == StixObject.stix_id,
                                       older.collection_pk == StixObject.collection_pk,
                                       older.modified < StixObject.modified,
                                       access.level_visible(reader, older)))
    stamps = [v for v in versions if isinstance(v, int)]
    if stamps:
        clauses.append(StixObject.modified.in_(stamps))
    return or_(*clauses)


def get_versions(session: Session, reader: Org | None, stix_id: str, *, all_versions: bool) -> list[StixObject]:
    """REST: the current version (or every version, oldest first); 404 whether absent or not readable."""
    query = access.readable(reader).where(StixObject.stix_id == stix_id).order_by(StixObject.modified)
    if not all_versions:
        query = query.where(StixObject.is_latest)
    rows = list(session.scalars(query))
    if not rows:
        raise NotFound(f"no object {stix_id!r}")
    return rows


def raw_contains(session: Session, needle: str) -> ColumnElement[bool]:
    """``stix_object.raw`` contains ``needle``, ASCII letters folded on both sides (names people type: "palo alto"
    for "Palo Alto"): a cheap first sieve, each hit is then parsed and checked."""
    postgres = session.get_bind().dialect.name == "postgresql"
    text = func.convert_from(StixObject.raw, "UTF8") if postgres else cast(StixObject.raw, Text)
    folded = literal(needle.lower(), Text)
    if postgres:
        return func.position(folded.op("IN")(func.lower(text))) > 0
    return func.instr(func.lower(text), folded) > 0


def pointing_at(session: Session, reader: Org | None, stix_id: str, *, limit: int) -> list[dict[str, Any]]:
    """The current relationships and sightings ``reader`` may read that point at ``stix_id`` (parsed), newest first:
    the incoming half of an object's graph (its own ``*_ref`` properties are the outgoing half)."""
    found = session.scalars(access.readable(reader).where(
        StixObject.is_latest, StixObject.pk.in_(select(ObjectRef.object_pk).where(ObjectRef.ref == stix_id)))
        .order_by(StixObject.pk.desc()).limit(limit))
    return [orjson.loads(obj.raw) for obj in found]


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


def delete_object(session: Session, org: Org, collection: Collection, stix_id: str, filters: Filters) -> int:
    """Delete the selected versions of one object: its publisher and admins only.

    Readers who cannot see the object get 404 (as for reads); readers who can see it but did not
    publish it get 403. The newest remaining version becomes current.
    """
    selected = Filters(ids=(stix_id,), versions=filters.versions, spec_versions=filters.spec_versions)
    rows = list(session.scalars(select(StixObject).where(*_conditions(org, collection, selected))))
    if not rows:
        raise NotFound(f"no object {stix_id!r} in this collection")
    if not org.is_hub_admin:
        # a member deletes its own rows; an SCO reported by others too keeps their copies
        rows = [r for r in rows if r.publisher_org_pk == org.pk]
        if not rows:
            raise Forbidden("only the organisation that published an object (or an admin) may delete it")
    pks = [r.pk for r in rows]
    session.execute(delete(Observable).where(Observable.object_pk.in_(pks)))
    session.execute(delete(ObjectRef).where(ObjectRef.object_pk.in_(pks)))
    session.execute(delete(StixObject).where(StixObject.pk.in_(pks)))
    newest = session.scalar(select(StixObject.pk).where(StixObject.collection_pk == collection.pk,
                                                        StixObject.stix_id == stix_id)
                            .order_by(StixObject.modified.desc()).limit(1))
    if newest is not None:
        session.execute(update(StixObject).where(StixObject.pk == newest).values(is_latest=True))
    return len(pks)
