"""Who may read which object, as SQL: the only way anything reads STIX objects.

Every read path (REST, TAXII, exports, look-ups, and later alerts, digests and web pages) starts
from ``readable`` so the TLP rules are applied inside the query, never after the fact.

Rules in force (DESIGN.md, "Sharing and TLP"; sharing groups and named recipients extend them):
- anonymous readers see nothing (public collections come with the TAXII collection settings);
- admins see everything;
- CLEAR and GREEN are for every member organisation of the hub (the community);
- AMBER, AMBER+STRICT and RED are, until sharing groups and named recipients exist, visible only
  to the organisation that published them.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, false, or_, select, true

from exchange.orgs.models import Org, Role
from exchange.stix.models import StixObject
from exchange.stix.tlp import Tlp

COMMUNITY_LEVELS = (Tlp.clear.value, Tlp.green.value)


def visible_to(reader: Org | None) -> ColumnElement[bool]:
    if reader is None:
        return false()
    if reader.role == Role.admin:
        return true()
    return or_(StixObject.tlp.in_(COMMUNITY_LEVELS), StixObject.publisher_org_pk == reader.pk)


def readable(reader: Org | None) -> Select[StixObject]:
    """All object versions ``reader`` may see; callers add filters, order and limits."""
    return select(StixObject).where(visible_to(reader))
