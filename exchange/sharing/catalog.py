"""API roots and collections: creation, grants, and who may read or write what.

Collection rights are decided here once; object-level TLP rules live in ``access``. Together they
are the whole read rule, and both are SQL so lists never filter after the fact.
"""

from __future__ import annotations

import re
import uuid
from typing import NamedTuple

from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.orm import Session

from exchange.core.errors import BadRequest, Conflict, ExchangeError, Forbidden, NotFound, Unauthenticated
from exchange.core.text import NUL
from exchange.core.timestamps import now_micros
from exchange.orgs.models import Org, SharingGroup, SharingGroupMember
from exchange.sharing.groups import member_group_pks
from exchange.stix.tlp import Tlp
from exchange.store.models import ApiRoot, Collection, CollectionGrant

DEFAULT_API_ROOT = "default"
# An API root's name is a path segment of its URL (/taxii2/{name}/), which clients copy by hand into
# their configuration: one spelling only, nothing that needs escaping.
API_ROOT_NAME = re.compile(r"[a-z0-9](?:[a-z0-9_-]{0,62}[a-z0-9])?")


class Rights(NamedTuple):
    can_read: bool
    can_write: bool


def get_api_root(session: Session, name: str) -> ApiRoot:
    root = session.scalar(select(ApiRoot).where(ApiRoot.name == name))
    if root is None:
        raise NotFound(f"no API root {name!r}")
    return root


def api_roots(session: Session) -> list[ApiRoot]:
    return list(session.scalars(select(ApiRoot).order_by(ApiRoot.pk)))


def api_root_url(base_url: str, root: ApiRoot) -> str:
    """The root's TAXII URL under the hub's ``base_url`` (what discovery lists)."""
    return f"{base_url.rstrip('/')}/taxii2/{root.name}/"


def create_api_root(session: Session, *, name: str, title: str, description: str = "") -> ApiRoot:
    """A new API root (a trust community's own ``/taxii2/{name}/``), listed by discovery at once."""
    if not API_ROOT_NAME.fullmatch(name):
        raise BadRequest(f"API root names are 1-64 lower-case letters, digits, '-' and '_', starting and ending "
                         f"with a letter or digit; not {name[:80]!r}")
    if not 0 < len(title) <= 200 or NUL in title + description:
        raise BadRequest("an API root needs a title of 1-200 characters (and no NUL characters)")
    if session.scalar(select(ApiRoot.pk).where(ApiRoot.name == name)) is not None:
        raise Conflict(f"an API root named {name!r} already exists")
    root = ApiRoot(name=name, title=title, description=description)
    session.add(root)
    session.flush()
    return root


def create(
    session: Session,
    *,
    title: str,
    api_root: str = DEFAULT_API_ROOT,
    description: str = "",
    default_tlp: Tlp = Tlp.green,
    public: bool = False,
    members_read: bool = True,
    publishers_write: bool = False,
    owner: Org | None = None,
    sharing_group: SharingGroup | None = None,
) -> Collection:
    """A collection of ``api_root``. With a sharing group, its audience is the group's members (and
    TLP:AMBER objects in it reach them); without one, the whole community."""
    root = get_api_root(session, api_root)
    collection = Collection(
        id=str(uuid.uuid4()), api_root_pk=root.pk, title=title, description=description,
        default_tlp=default_tlp.value, public=public, members_read=members_read,
        publishers_write=publishers_write, created_at=now_micros(),
        owner_org_pk=owner.pk if owner is not None and owner.pk else None,
        sharing_group_pk=sharing_group.pk if sharing_group is not None else None,
    )
    session.add(collection)
    session.flush()
    return collection


def grant(session: Session, *, collection: Collection, org: Org, read: bool, write: bool) -> CollectionGrant:
    """Set (not add to) the org's rights on the collection."""
    row = session.get(CollectionGrant, (collection.pk, org.pk))
    if row is None:
        row = CollectionGrant(collection_pk=collection.pk, org_pk=org.pk, can_read=read, can_write=write)
        session.add(row)
    else:
        row.can_read, row.can_write = read, write
    session.flush()
    return row


def require_granter(collection: Collection, org: Org) -> None:
    """Granting rights on a collection: its owner organisation or a hub admin."""
    if not org.is_hub_admin and collection.owner_org_pk != org.pk:
        raise Forbidden("only the collection's owner organisation (or a hub admin) grants rights on it")


def grants_of(session: Session, collection: Collection) -> list[tuple[Org, CollectionGrant]]:
    """Who was granted what on the collection, by organisation slug."""
    return [(org, row) for org, row in session.execute(
        select(Org, CollectionGrant).join(CollectionGrant, CollectionGrant.org_pk == Org.pk)
        .where(CollectionGrant.collection_pk == collection.pk).order_by(Org.slug))]


def rights(session: Session, reader: Org | None, collection: Collection) -> Rights:
    """The collection-level rule (see ``Collection``); ``member_readable_pks`` is the same rule in SQL."""
    if reader is None or reader.is_hub_admin or collection.owner_org_pk == reader.pk:
        return _decide(reader, collection, None, in_audience=True)
    granted = session.get(CollectionGrant, (collection.pk, reader.pk))
    in_audience = collection.sharing_group_pk is None or session.get(
        SharingGroupMember, (collection.sharing_group_pk, reader.pk)) is not None
    return _decide(reader, collection, granted, in_audience=in_audience)


def _decide(reader: Org | None, collection: Collection, granted: CollectionGrant | None, *,
            in_audience: bool) -> Rights:
    """``rights`` once the reader's grant on the collection and its place in the collection's audience are known."""
    if reader is None:
        return Rights(collection.public, False)
    if reader.is_hub_admin or collection.owner_org_pk == reader.pk:
        return Rights(True, True)
    can_read = collection.public or (collection.members_read and in_audience) or bool(granted and granted.can_read)
    may_publish = collection.sharing_group_pk is not None or reader.role.can_publish
    can_write = (collection.publishers_write and in_audience and may_publish) or bool(granted and granted.can_write)
    return Rights(can_read, can_write)


def _visible(session: Session, reader: Org | None,
             *where: ColumnElement[bool]) -> list[tuple[ApiRoot, Collection, Rights]]:
    """The collections (``where``) the reader may see (read or write), with their roots and its rights on each:
    ``rights`` for all of them in one query, the reader's grant and membership joined to each collection, where
    asking per collection took two queries more each (the object browser's filter asks on every page)."""
    reader_pk = reader.pk if reader is not None else None
    query = (select(ApiRoot, Collection, CollectionGrant, SharingGroupMember.org_pk)
             .join(Collection, Collection.api_root_pk == ApiRoot.pk)
             .outerjoin(CollectionGrant, and_(CollectionGrant.collection_pk == Collection.pk,
                                              CollectionGrant.org_pk == reader_pk))
             .outerjoin(SharingGroupMember, and_(SharingGroupMember.group_pk == Collection.sharing_group_pk,
                                                 SharingGroupMember.org_pk == reader_pk))
             .where(*where).order_by(ApiRoot.pk, Collection.pk))
    found = []
    for root, collection, granted, member in session.execute(query):
        r = _decide(reader, collection, granted, in_audience=collection.sharing_group_pk is None or member is not None)
        if r.can_read or r.can_write:
            found.append((root, collection, r))
    return found


def member_readable_pks(reader_pk: int | ColumnElement[int] | None) -> Select[int]:
    """Primary keys of the collections an anonymous reader (None) or a member organisation (not an
    admin: admins read every collection) may read, as a subquery; the organisation may be a column of
    an outer query (``access.readers``)."""
    if reader_pk is None:
        return select(Collection.pk).where(Collection.public.is_(True))
    # correlate_except: a reader given as a column is the outer query's, however deep this is nested
    granted = select(CollectionGrant.collection_pk).where(
        CollectionGrant.org_pk == reader_pk, CollectionGrant.can_read.is_(True)
    ).correlate_except(CollectionGrant)
    in_audience = or_(Collection.sharing_group_pk.is_(None),
                      Collection.sharing_group_pk.in_(member_group_pks(reader_pk)))
    return select(Collection.pk).where(or_(
        Collection.owner_org_pk == reader_pk, Collection.public.is_(True),
        and_(Collection.members_read.is_(True), in_audience), Collection.pk.in_(granted))).correlate_except(Collection)


def everywhere(session: Session, reader: Org | None) -> list[tuple[ApiRoot, Collection, Rights]]:
    """Every API root's collections the reader may see (``in_root``), root by root."""
    return _visible(session, reader)


def in_root(session: Session, reader: Org | None, root: ApiRoot) -> list[tuple[Collection, Rights]]:
    """The root's collections the reader may see (read or write), with its rights on each."""
    return [(c, r) for _, c, r in _visible(session, reader, ApiRoot.pk == root.pk)]


def get(session: Session, reader: Org | None, root: ApiRoot | None, collection_id: str) -> tuple[Collection, Rights]:
    """A collection (of ``root``, when given) the reader may see; 404 otherwise, whether it exists or
    not (no existence oracle), and 401 for anonymous clients, who may simply have forgotten their
    credentials."""
    query = select(Collection).where(Collection.id == collection_id)
    if root is not None:
        query = query.where(Collection.api_root_pk == root.pk)
    collection = session.scalar(query)
    if collection is not None:
        r = rights(session, reader, collection)
        if r.can_read or r.can_write:
            return collection, r
    if reader is None:
        raise Unauthenticated("this collection is not public: send credentials")
    raise NotFound(f"no collection {collection_id!r}" + (f" in API root {root.name!r}" if root else ""))


def by_id(session: Session, collection_id: str) -> Collection:
    collection = session.scalar(select(Collection).where(Collection.id == collection_id))
    if collection is None:
        raise NotFound(f"no collection {collection_id!r}")
    return collection


def require_read(r: Rights, reader: Org | None) -> None:
    if not r.can_read:
        raise _refusal(reader, "read this collection")


def require_write(r: Rights, reader: Org | None) -> None:
    if not r.can_write:
        raise _refusal(reader, "write to this collection")


def _refusal(reader: Org | None, what: str) -> ExchangeError:
    if reader is None:
        return Unauthenticated(f"send credentials to {what}")
    return Forbidden(f"this organisation may not {what}")

