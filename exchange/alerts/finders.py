"""What a new object version is about, per organisation: from its observables and, for the kinds the
observable table does not cover (exposure findings, vulnerabilities, sector advisories, AS numbers),
from its JSON. Pure: no database; ``matching`` loads what these read and decides what becomes an alert.

Conventions a publisher follows to be matched (docs/decisions/0011-alerts.md, "What matches"):

- ``vulnerability``: ``x_exchange_affected``, a list of ``{"cpe": …}``, ``{"purl": …}`` or
  ``{"vendor": …, "product": …}``, each with an optional ``"versions"`` range in ``vers:`` syntax
  (``vers:generic/>=10.2|<10.2.9``); ``x_exchange_exploited: true`` (or the label ``known-exploited``)
  for known exploitation;
- ``report`` / ``course-of-action``: ``x_exchange_sectors`` (NACE section letters) or labels
  ``sector:<letter>``;
- exposure: an ``observed-data`` whose ``object_refs`` (or deprecated ``objects``) name an address or
  domain, or a ``sighting`` whose ``observed_data_refs`` name such an observed-data.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

from packageurl import PackageURL
from univers.version_range import VersionRange
from univers.versions import InvalidVersion

from exchange.alerts.benign import Benign, Silence
from exchange.alerts.index import AssetIndex, AssetRow
from exchange.alerts.lookalike import LookalikeIndex
from exchange.alerts.models import AlertKind
from exchange.assets.models import AssetKind
from exchange.assets.normalise import cpe_word
from exchange.stix.observables import Extracted, from_comparison

# An indicator naming a range wider than this (in addresses) says nothing about one organisation.
WIDEST_V4 = 2**16
WIDEST_V6 = 2**80
# The widest verified range of an organisation's own inside a shared cloud or CDN range: /24 and /48.
OWN_V4 = 2**8
OWN_V6 = 2**80
_V4_BASE = "00000000000000000000ffff"
_ASN = re.compile(r"autonomous-system:number\s*=\s*(\d{1,10})\b")
_EXPLOITED_LABELS = frozenset({"known-exploited", "kev", "exploited"})
_RANGE: Callable[[str], Any] = VersionRange.from_string  # univers is untyped
_SECTOR_LABEL = re.compile(r"(?:sector|nace):([a-u])\Z", re.IGNORECASE)


class Hit(NamedTuple):
    org_pk: int
    asset: AssetRow | None  # None: a sector advisory
    match_key: str
    kind: AlertKind
    matched: str  # the published value that concerns the asset
    exploited: bool = False


@dataclass(frozen=True, slots=True)
class Finders:
    index: AssetIndex
    lookalikes: LookalikeIndex[AssetRow]
    benign: Benign

    def observables(self, found: Iterable[Extracted], *, kind: AlertKind = AlertKind.listed,
                    lookalike: bool = True) -> Iterator[Hit]:
        """Hits of ``found`` (an object's observables): its own names and addresses, and look-alikes."""
        for obs in found:
            yield from self.observable(obs.kind, obs.value, obs.ip_lo, obs.ip_hi, kind=kind, lookalike=lookalike)

    def observable(self, what: str, value: str, lo: str | None, hi: str | None, *,
                   kind: AlertKind = AlertKind.listed, lookalike: bool = True) -> list[Hit]:
        """Hits of one observable (``Observable`` columns). The hot loop of matching, so the benign lists
        are asked only about a value that hit something (a rare event), not about every value."""
        if lo is not None and hi is not None:
            assets = self.index.overlapping(lo, hi) if lo == hi or self._narrow(lo, hi) else []
        elif what == "domain" or what == "email-domain":
            assets = self.index.under(value)
            if what == "email-domain":
                assets.extend(self.index.exact(AssetKind.mail_domain, value))
            elif lookalike:
                imitated = self.lookalikes.find(value)
                if imitated:
                    return self._unless_benign(what, value, lo, hi, [*_hits(assets, kind, value), *(
                        Hit(asset.org_pk, asset, str(asset.pk), AlertKind.lookalike, value) for asset, _ in imitated)])
        elif what == "url":
            assets = self.index.exact(AssetKind.url, value)
        else:
            return []
        return self._unless_benign(what, value, lo, hi, list(_hits(assets, kind, value))) if assets else []

    def _unless_benign(self, what: str, value: str, lo: str | None, hi: str | None, hits: list[Hit]) -> list[Hit]:
        silence = self.benign.silence(what, value, lo, hi)
        if silence is None:
            return hits
        return [h for h in hits if h.asset is not None and own_address(h.asset)] if silence is Silence.shared else []

    def asns(self, numbers: list[str], kind: AlertKind = AlertKind.listed) -> Iterator[Hit]:
        for number in numbers:
            yield from _hits(self.index.exact(AssetKind.asn, number), kind, f"AS{number}")

    def software(self, obj: Mapping[str, Any]) -> Iterator[Hit]:
        affected = obj.get("x_exchange_affected")
        if not isinstance(affected, list):
            return
        exploited = obj.get("x_exchange_exploited") is True or bool(_EXPLOITED_LABELS & _labels(obj))
        name = obj.get("name") if isinstance(obj.get("name"), str) else obj.get("id", "")
        for entry in affected:
            product = affected_product(entry) if isinstance(entry, dict) else None
            if product is None:
                continue
            vendor, name_, fixed_version, versions = product
            for asset in self.index.software.get(name_, ()):
                if vendor is not None and asset.sw_vendor is not None and asset.sw_vendor != vendor:
                    continue
                if _affects(asset.sw_version, fixed_version, versions):
                    yield Hit(asset.org_pk, asset, str(asset.pk), AlertKind.software, str(name), exploited)

    def sectors(self, obj: Mapping[str, Any]) -> Iterator[Hit]:
        named = obj.get("x_exchange_sectors")
        letters = {s.upper() for s in named if isinstance(s, str)} if isinstance(named, list) else set()
        letters.update(m.group(1).upper() for label in _labels(obj) if (m := _SECTOR_LABEL.match(label)))
        for letter in sorted(letters):
            for org_pk in self.index.sectors.get(letter, ()):
                yield Hit(org_pk, None, f"sector:{letter}", AlertKind.sector, letter)

    def _narrow(self, lo: str, hi: str) -> bool:
        widest = WIDEST_V4 if lo.startswith(_V4_BASE) else WIDEST_V6
        return int(hi, 16) - int(lo, 16) < widest


def own_address(asset: AssetRow) -> bool:
    """A verified address, or a verified range of at most ``OWN_V4`` / ``OWN_V6`` addresses: the
    organisation's own, even inside a shared cloud or CDN range (``benign.Silence.shared``). A wider
    range there is more likely the provider's block registered by mistake than space the SME runs."""
    if not asset.verified or asset.ip_lo is None or asset.ip_hi is None:
        return False
    widest = OWN_V4 if asset.ip_lo.startswith(_V4_BASE) else OWN_V6
    return int(asset.ip_hi, 16) - int(asset.ip_lo, 16) < widest


def _hits(assets: Iterator[AssetRow] | list[AssetRow], kind: AlertKind, matched: str) -> Iterator[Hit]:
    for asset in assets:
        yield Hit(asset.org_pk, asset, str(asset.pk), kind, matched)


def _labels(obj: Mapping[str, Any]) -> set[str]:
    labels = obj.get("labels")
    return {label.lower() for label in labels if isinstance(label, str)} if isinstance(labels, list) else set()


def affected_product(entry: dict[str, Any]) -> tuple[str | None, str, str | None, str | None] | None:
    """(vendor, product, the one affected version, version range) of an ``x_exchange_affected`` entry."""
    versions = entry.get("versions") if isinstance(entry.get("versions"), str) else None
    if isinstance(entry.get("cpe"), str):
        fields = re.split(r"(?<!\\):", entry["cpe"].lower())
        if len(fields) >= 5 and fields[2] in ("a", "o", "h"):
            version = fields[5] if len(fields) > 5 and fields[5] not in ("*", "-", "") else None
            return fields[3], fields[4], version, versions
        return None
    if isinstance(entry.get("purl"), str):
        try:
            purl = PackageURL.from_string(entry["purl"])
        except ValueError:
            return None
        return purl.namespace or None, purl.name, purl.version or None, versions
    if isinstance(entry.get("product"), str):  # names as people write them, compared as CPE writes them
        vendor = entry.get("vendor")
        return (cpe_word(vendor) if isinstance(vendor, str) else None), cpe_word(entry["product"]), None, versions
    return None


@lru_cache(maxsize=2**14)
def _affects(have: str | None, one: str | None, versions: str | None) -> bool:
    """Does the organisation's version (None: it did not say, so maybe) fall in what the object names?
    Memoised: parsing a ``vers:`` range costs 50 µs, and many organisations run the same version."""
    if have is None or (one is None and versions is None):
        return True
    if versions is not None:
        try:
            span = _RANGE(versions)
            return span.version_class(have) in span
        except (ValueError, InvalidVersion, TypeError, NotImplementedError):
            return True  # a range we cannot read: tell rather than stay silent
    return have == one


def addresses(obj: Mapping[str, Any], scos: Mapping[str, list[Extracted]]) -> tuple[list[Extracted], list[str]]:
    """The observables and AS numbers an ``observed-data`` names, from its referenced SCOs' observables
    (``scos``, by id) or its embedded ``objects``."""
    found: list[Extracted] = []
    numbers: list[str] = []
    for ref in obj.get("object_refs") or ():
        if isinstance(ref, str):
            found.extend(scos.get(ref, ()))
    embedded = obj.get("objects")
    for sco in embedded.values() if isinstance(embedded, dict) else ():
        if not isinstance(sco, dict) or not isinstance(sco.get("type"), str):
            continue
        if sco["type"] == "autonomous-system" and isinstance(sco.get("number"), int):
            numbers.append(str(sco["number"]))
        elif isinstance(sco.get("value"), str):
            found.extend(from_comparison(sco["type"], ["value"], sco["value"]))
    return found, numbers


def asn_numbers(obj: Mapping[str, Any]) -> list[str]:
    """AS numbers an indicator pattern compares, or an ``autonomous-system`` SCO's own."""
    if obj.get("type") == "autonomous-system" and isinstance(obj.get("number"), int):
        return [str(obj["number"])]
    pattern = obj.get("pattern")
    return _ASN.findall(pattern) if isinstance(pattern, str) and obj.get("pattern_type") == "stix" else []


