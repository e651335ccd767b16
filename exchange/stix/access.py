"""Who may read which object, as SQL: the only way anything reads STIX objects.

Every read path (REST, TAXII, exports, look-ups, and later alerts, digests and web pages) starts
from ``readable`` so the TLP rules are applied inside the query, never after the fact.

Rules in force (DESIGN.md, "Sharing and TLP"; sharing groups and named recipients extend them):
- the reader must be allowed on the collection (``collections.readable_pks``);
- anonymous readers (public collections only) see TLP:CLEAR;
- admins see everything;
- CLEAR and GREEN are for every member organisation of the hub (the community);
- AMBER, AMBER+STRICT and RED are, until sharing groups and named recipients exist, visible only
  to the organisation that published them.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, or_, select, true

from exchange.orgs.models import Org, Role
from exchange.stix.collections import readable_pks
from exchange.stix.models import StixObject
from exchange.stix.tlp import Tlp

COMMUNITY_LEVELS = (Tlp.clear.value, Tlp.green.value)


def visible_to(reader: Org | None) -> ColumnElement[bool]:
    """The TLP part of the rule, for queries already restricted to readable collections."""
    if reader is None:
        return StixObject.tlp == Tlp.clear.value
    if reader.role == Role.admin:
        return true()
    return or_(StixObject.tlp.in_(COMMUNITY_LEVELS), StixObject.publisher_org_pk == reader.pk)


def readable(reader: Org | None) -> Select[StixObject]:
    """All object versions ``reader`` may see; callers add filters, order and limits."""
    return select(StixObject).where(visible(reader))


def visible(reader: Org | None) -> ColumnElement[bool]:
    """The whole read rule (collection and TLP), for joins that do not start from ``readable``."""
    return StixObject.collection_pk.in_(readable_pks(reader)) & visible_to(reader)
