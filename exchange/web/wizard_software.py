"""The software picker's names: vendor and product names the hub already knows, as the organisation may read them.

Two sources, both read through ``sharing.access`` so a name published under TLP:AMBER for another group
never shows up in the list: the products vulnerabilities name in ``x_exchange_affected`` (KEV, CSAF and
hand-written advisories; parsed by ``alerts.finders.affected_product``, the function matching uses, so a
name picked here is one matching will compare) and the CPE names of ``software`` objects and patterns (the
``cpe`` observables). A name is searched the way CPE and the KEV connector write it: lower case, words
joined by ``_``; the JSON of vulnerabilities is first sieved for that text in SQL, then parsed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from exchange.alerts.finders import affected_product
from exchange.assets.normalise import cpe_word
from exchange.orgs.models import Org
from exchange.sharing import access
from exchange.store.models import Observable, StixObject
from exchange.store.reads import raw_contains

SCANNED = 500  # rows read per source for one search: a longer list is narrowed by typing more
MIN_TEXT = 2


@dataclass(frozen=True, slots=True, order=True)
class Product:
    vendor: str
    product: str

    @property
    def key(self) -> str:
        """The picker's form value."""
        return f"{self.vendor}:{self.product}"


def search(session: Session, org: Org, text: str, *, limit: int) -> list[Product]:
    """Products whose vendor or product name contains ``text`` (in CPE words: any case, spaces as ``_``),
    sorted; empty below ``MIN_TEXT`` characters."""
    needle = cpe_word(text)
    if len(needle) < MIN_TEXT:
        return []
    found: set[Product] = set()
    # The sieve looks for the longest word in any case: an advisory may write "Palo Alto Networks" where a
    # CPE name writes palo_alto_networks; each hit is then compared in CPE words (``_add``).
    word = max(needle.split("_"), key=len)
    advisories = session.scalars(access.readable(org).with_only_columns(StixObject.raw).where(
        StixObject.type == "vulnerability", StixObject.is_latest, raw_contains(session, word))
        .limit(SCANNED))
    for raw in advisories:
        affected = json.loads(raw).get("x_exchange_affected")
        for entry in affected if isinstance(affected, list) else ():
            _add(found, affected_product(entry) if isinstance(entry, dict) else None, needle)
    cpes = session.scalars(select(Observable.value).distinct()
                           .join(StixObject, StixObject.pk == Observable.object_pk)
                           .where(access.visible(org), StixObject.is_latest, Observable.kind == "cpe",
                                  Observable.value.contains(needle, autoescape=True))
                           .limit(SCANNED))
    for value in cpes:
        _add(found, affected_product({"cpe": value}), needle)
    return sorted(found)[:limit]


def _add(found: set[Product], named: tuple[str | None, str, str | None, str | None] | None, needle: str) -> None:
    """A name without a vendor cannot become a CPE asset (the inventory refuses one), so it is left out."""
    if named is None or not named[0] or named[0] == "*" or named[1] == "*":
        return
    vendor, product = cpe_word(named[0]), cpe_word(named[1])  # the picked value becomes a CPE name
    if needle in vendor or needle in product:
        found.add(Product(vendor, product))


def cpe(picked: str, version: str) -> str:
    """The CPE 2.3 name of a picked product (``vendor:product``) and a version (empty: every version)."""
    vendor, _, product = picked.partition(":")
    return f"cpe:2.3:a:{vendor}:{product}:{version.strip() or '*'}:*:*:*:*:*:*:*"
