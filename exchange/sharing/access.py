"""Who may read which object, as SQL: the only way anything reads STIX objects.

Every read path (REST, TAXII, exports, look-ups, and later alerts, digests and web pages) filters
with ``visible`` (or starts from ``readable``), so the rules are applied inside the query, never
after the fact. docs/decisions/0003-access.md states the rules; in short:

- the reader must be allowed on the collection (``collections.member_readable_pks``);
- anonymous readers (public collections only) see TLP:CLEAR; admins see everything;
- CLEAR and GREEN: every member organisation (the community);
- AMBER: the members of the collection's sharing group;
- AMBER+STRICT and RED: nobody but the producer and the organisations it names
  (``x_exchange_recipients``, stored as ``object_recipient`` rows), who also extend AMBER;
- the producer always sees its own objects;
- a version is visible only if the object's *current* version is visible too, so re-marking an
  object stricter hides its older, laxer versions from whoever lost access.
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, Select, and_, bindparam, exists, literal_column, or_, select, true
from sqlalchemy.orm import InstrumentedAttribute, aliased
from sqlalchemy.sql.selectable import Subquery

from exchange.orgs.models import Org, Role
from exchange.sharing.catalog import member_readable_pks
from exchange.sharing.groups import member_group_pks
from exchange.stix.tlp import Tlp
from exchange.store.models import Collection, ObjectRecipient, StixObject

COMMUNITY_LEVELS = (Tlp.clear.value, Tlp.green.value)
ObjectTable = type[StixObject]


def readable(reader: Org | None) -> Select[StixObject]:
    """All object versions ``reader`` may see; callers add filters, order and limits."""
    return select(StixObject).where(visible(reader))


def visible(reader: Org | None) -> ColumnElement[bool]:
    """The whole read rule for a query over ``stix_object``: collection, TLP, and current version."""
    if reader is not None and reader.is_hub_admin:
        return true()
    return _rule(reader.pk if reader is not None else None)


def level_visible(reader: Org | None, obj: ObjectTable) -> ColumnElement[bool]:
    """The TLP half of ``visible`` for another alias of ``stix_object``: with the same id and
    collection as a row that passes ``visible``, a row that passes this one is visible too (the
    collection and the current version are the same). ``match[version]=first`` needs it: the first
    version a reader gets is the first one it may see, else an empty answer would reveal the object."""
    if reader is not None and reader.is_hub_admin:
        return true()
    return _tlp_visible(reader.pk if reader is not None else None, obj)


def readers(pair: Subquery) -> Select[int, int]:
    """Of the (organisation pk, object pk) pairs in ``pair`` (columns ``org_pk``, ``object_pk``), those
    where the organisation may read the object version: the same rule as ``visible``, with the reader
    taken from each pair instead of one value.

    Alert matching asks it for thousands of candidate pairs at once (one query instead of one per
    organisation), sent as one parameter (``store.ingest_rows.pairs_table``). Admin organisations read
    everything, as in ``visible``. Each pair is one probe of the object's key: ``OFFSET 0`` keeps
    PostgreSQL from turning the ``EXISTS`` into a join, which it planned as a hash of the whole object
    table, a cost that grows with the table rather than with the pairs (decision 0011).

    The pairs are its only parameter; every constant is written into the SQL (``_fixed``). A prepared
    statement's generic plan is then the plan its values would get, and PostgreSQL keeps it after five runs
    (``core.db.PREPARED``). With the admin role as a parameter the generic plan scanned every organisation,
    and PostgreSQL planned each run anew (0.7 ms of an inbox page).
    """
    reader = pair.c.org_pk
    admins = select(Org.pk).where(Org.role == _fixed(Org.role, Role.admin))
    allowed = select(StixObject.pk).where(StixObject.pk == pair.c.object_pk,
                                          or_(reader.in_(admins), _rule_sql(reader))).offset(literal_column("0"))
    return select(pair.c.org_pk, pair.c.object_pk).where(exists(allowed))


@functools.lru_cache(maxsize=4096)
def _rule(reader_pk: int | None) -> ColumnElement[bool]:
    """Built once per reader and reused: SQL expressions are immutable, and building this one cost
    more than running the query it goes into (decision 0003, "One helper reads objects")."""
    return _rule_sql(reader_pk)


def _rule_sql(reader_pk: int | ColumnElement[int] | None) -> ColumnElement[bool]:
    """The rule for one reader: a value, or a column of the outer query (``readers``)."""
    current = aliased(StixObject)
    # correlate_except, as in ``_tlp_visible``: the reader column of ``readers`` is two queries out
    current_visible = exists().where(current.collection_pk == StixObject.collection_pk,
                                     current.stix_id == StixObject.stix_id, current.is_latest.is_(True),
                                     _tlp_visible(reader_pk, current)).correlate_except(current)
    return and_(StixObject.collection_pk.in_(member_readable_pks(reader_pk)), _tlp_visible(reader_pk, StixObject),
                or_(StixObject.is_latest.is_(True), current_visible))


def _tlp_visible(reader_pk: int | ColumnElement[int] | None, obj: ObjectTable) -> ColumnElement[bool]:
    if reader_pk is None:
        return obj.tlp == Tlp.clear.value
    # correlate_except: a reader given as a column is the outer query's (``readers``), however deep this is nested
    group_collections = select(Collection.pk).where(Collection.sharing_group_pk.in_(member_group_pks(reader_pk))
                                                    ).correlate_except(Collection)
    named = select(ObjectRecipient.object_pk).where(ObjectRecipient.org_pk == reader_pk).correlate_except(
        ObjectRecipient)
    return or_(
        obj.tlp.in_(bindparam(None, COMMUNITY_LEVELS, type_=obj.tlp.type, expanding=True, literal_execute=True)),
        obj.publisher_org_pk == reader_pk,
        and_(obj.tlp == _fixed(obj.tlp, Tlp.amber.value), obj.collection_pk.in_(group_collections)),
        obj.pk.in_(named),
    )


def _fixed(column: ColumnElement[Any] | InstrumentedAttribute[Any], value: object) -> BindParameter[Any]:
    """A constant of the rule, written into the SQL as a literal rather than sent as a parameter (``readers``)."""
    return bindparam(None, value, type_=column.type, literal_execute=True)
