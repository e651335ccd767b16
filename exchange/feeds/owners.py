"""Exposure findings name the address's owner: an ``observed-data`` marked AMBER+STRICT or RED that a
feed brings, about an address some organisation has *verified* as its own (decision 0010), gets that
organisation's identity in ``x_exchange_recipients`` (decision 0003), so the owner reads it and
nobody else beyond the relaying CSIRT. An address nobody verified names nobody: the finding stays
with the CSIRT, which decides whom to tell.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from exchange.assets.models import Asset, AssetKind
from exchange.core.timestamps import now_micros
from exchange.orgs.models import Org
from exchange.stix import tlp
from exchange.stix.hub_rules import RECIPIENTS_PROPERTY
from exchange.stix.observables import ip_observable

_NAMED_LEVELS = frozenset({tlp.Tlp.amber_strict, tlp.Tlp.red})
_IP_TYPES = frozenset({"ipv4-addr", "ipv6-addr"})
_IP_KINDS = (AssetKind.ipv4.value, AssetKind.ipv6.value, AssetKind.cidr.value)


def name_owners(session: Session, objects: list[dict[str, Any]]) -> None:
    """Add the verified owners of the addresses each restricted finding names to its recipients."""
    addresses = {o["id"]: o["value"] for o in objects if o.get("type") in _IP_TYPES and isinstance(o.get("value"), str)}
    for obj in objects:
        if obj.get("type") != "observed-data" or tlp.marked_level(obj) not in _NAMED_LEVELS:
            continue
        owners: list[str] = []
        for ref in obj.get("object_refs") or ():
            if ref in addresses:
                owners.extend(_owners(session, addresses[ref]))
        if owners:
            obj[RECIPIENTS_PROPERTY] = list(dict.fromkeys([*obj.get(RECIPIENTS_PROPERTY, []), *owners]))


def _owners(session: Session, address: str) -> list[str]:
    found = ip_observable(address)
    if found is None or found.ip_lo is None:
        return []
    now = now_micros()
    query = (select(Org.identity_id).join(Asset, Asset.org_pk == Org.pk)
             .where(Asset.kind.in_(_IP_KINDS), Asset.ip_lo <= found.ip_lo, Asset.ip_hi >= found.ip_hi,
                    Asset.verified_at.is_not(None),
                    or_(Asset.verification_expires_at.is_(None), Asset.verification_expires_at > now))
             .distinct())
    return list(session.scalars(query))
