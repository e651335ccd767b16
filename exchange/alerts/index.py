"""Every organisation's assets in memory, keyed the way new observables are looked up.

Matching reads the whole inventory once per run (10 small columns; 100,000 assets load in a fraction
of a second, decision 0011) and then answers each observable with dictionary and bisect look-ups:
cheaper than one join per observable kind, and the same code on SQLite and PostgreSQL.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from exchange.assets.models import Asset, AssetKind, OrgProfile
from exchange.core.timestamps import now_micros


class AssetRow(NamedTuple):
    pk: int
    org_pk: int
    kind: str
    value: str
    ip_lo: str | None
    ip_hi: str | None
    sw_vendor: str | None
    sw_product: str | None
    sw_version: str | None
    sw_purl_type: str | None
    verified: bool


_RANGE_KINDS = (AssetKind.ipv4.value, AssetKind.ipv6.value, AssetKind.cidr.value)


class AssetIndex:
    def __init__(self, rows: list[AssetRow], sectors: dict[str, list[int]], stale_at: int | None = None) -> None:
        self.stale_at = stale_at  # µs: the first verification to expire, after which ``verified`` is wrong
        # kind -> value -> assets: one dictionary per kind, so a probe builds no (kind, value) tuple
        self.names: dict[str, dict[str, list[AssetRow]]] = defaultdict(lambda: defaultdict(list))
        self.software: dict[str, list[AssetRow]] = defaultdict(list)  # by product
        ranges: list[AssetRow] = []
        for row in rows:
            if row.kind in _RANGE_KINDS and row.ip_lo is not None:
                ranges.append(row)
            elif row.kind == AssetKind.software.value and row.sw_product:
                self.software[row.sw_product].append(row)
            else:
                self.names[row.kind][row.value].append(row)
        ranges.sort(key=lambda r: r.ip_lo or "")
        self._ranges = ranges
        self._los = [r.ip_lo or "" for r in ranges]
        # The highest end among the ranges up to each position: walking back from the last range that starts
        # at or before an address, nothing earlier can reach it once this falls below the address.
        self._reach: list[str] = []
        for r in ranges:
            self._reach.append(max(self._reach[-1], r.ip_hi or "") if self._reach else r.ip_hi or "")
        self.sectors = sectors
        self.has_asns = bool(self.names.get(AssetKind.asn.value))
        self.has_urls = bool(self.names.get(AssetKind.url.value))
        self.has_names = bool(self.names.get(AssetKind.domain.value) or self.names.get(AssetKind.mail_domain.value))
        self.has_ranges = bool(ranges)
        self._domains = self.names.get(AssetKind.domain.value, {})
        self.domains = [r for found in self._domains.values() for r in found]

    def any(self) -> bool:
        return bool(self.names or self.software or self._ranges or self.sectors)

    def observable_kinds(self) -> tuple[str, ...]:
        """The observable kinds (``exchange.stix.observables``) that can match something here: the rest of
        the observable table (hashes, e-mail addresses, CVE names...) is not read at all."""
        kinds = ("domain", "email-domain") if self.has_names else ()
        return (*kinds, *(("url",) if self.has_urls else ()), *(("ipv4", "ipv6") if self.has_ranges else ()))

    @classmethod
    def load(cls, session: Session) -> AssetIndex:
        now = now_micros()
        columns = (Asset.pk, Asset.org_pk, Asset.kind, Asset.value, Asset.ip_lo, Asset.ip_hi, Asset.sw_vendor,
                   Asset.sw_product, Asset.sw_version, Asset.sw_purl_type, Asset.verified_at,
                   Asset.verification_expires_at)
        rows, stale_at = [], None
        for r in session.execute(select(*columns)):
            verified = r[10] is not None and (r[11] is None or r[11] > now)
            rows.append(AssetRow(*r[:10], verified))
            if verified and r[11] is not None and (stale_at is None or r[11] < stale_at):
                stale_at = r[11]
        sectors: dict[str, list[int]] = defaultdict(list)
        for org_pk, sector in session.execute(select(OrgProfile.org_pk, OrgProfile.sector)):
            if sector:
                sectors[sector].append(org_pk)
        return cls(rows, sectors, stale_at)

    def under(self, host: str) -> list[AssetRow]:
        """Domain assets that are ``host`` or a parent domain of it: ``shop.bakery.example`` is under
        ``bakery.example``, ``bakery.example.evil.test`` is not (labels are compared whole, from the right).
        A list, empty for almost every host: matching asks this of every published name."""
        domains = self._domains
        found: list[AssetRow] = []
        start = 0
        while (dot := host.find(".", start)) >= 0:  # every suffix that still has a dot: never a bare TLD
            assets = domains.get(host[start:])
            if assets:
                found.extend(assets)
            start = dot + 1
        return found

    def exact(self, kind: AssetKind, value: str) -> list[AssetRow]:
        found = self.names.get(kind.value)
        return found.get(value, []) if found is not None else []

    def overlapping(self, lo: str, hi: str) -> list[AssetRow]:
        """Address assets sharing at least one address with ``lo``..``hi`` (32-hex-digit bounds)."""
        i = bisect.bisect_right(self._los, hi) - 1
        reach, ranges = self._reach, self._ranges
        found: list[AssetRow] = []
        while i >= 0 and reach[i] >= lo:
            row = ranges[i]
            if (row.ip_hi or "") >= lo:
                found.append(row)
            i -= 1
        return found
