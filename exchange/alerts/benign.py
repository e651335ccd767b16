"""Values that never alert: the built-in lists (``benign.txt``, ``cloud.txt``) and the MISP warninglists.

``benign.txt`` is small and always there (public resolvers, connectivity checks); the warninglists
(``exchange.feeds.warninglists``, the optional ``pymispwarninglists`` data: public DNS resolvers, cloud
and CDN ranges, well-known services) are read once per process when installed. Matching asks only about
a value that hit an asset, so a look-up here is rare and its cost does not count; ``prepare`` (the
worker's start) reads the lists before the first run.

Two kinds of silence (decision 0011, "No noise"): a resolver or a connectivity check never alerts
anyone (``Silence.everyone``); an address in a cloud or CDN range shared by very many customers
(``cloud.txt``, the cloud and CDN warninglists) alerts only the organisation that verified that address
as its own, alone or in a narrow range (``Silence.shared``; the finders decide who that is). A provider's
range says nothing about who rents an address in it, and an SME's server on AWS is exactly what it
must hear about.

Two kinds of warninglist are not used here: the "List of RFC …" lists (private, documentation,
multicast ranges and special-use names), because the inventory refuses such assets anyway
(decision 0010) and with ``EXCHANGE_ASSETS_ALLOW_RESERVED`` (tests, demos) they are exactly the assets
registered; and the VPN-provider and data-centre lists, because an SME's own server is in a data
centre, and a report about it is what it must hear.
"""

from __future__ import annotations

import bisect
import enum
from collections.abc import Iterable
from functools import cache
from importlib import resources

from exchange.feeds import warninglists
from exchange.stix.observables import ip_observable, normalise_domain

_NOT_FOR_ALERTS = ("list of rfc ", "vpn providers", "datacenter", "data centre")
# Warninglists of cloud and CDN ranges rented or shared by many customers (names as the lists give them).
# Checked before ``_NOT_FOR_ALERTS``: Azure's lists call themselves "Datacenter IP Ranges". GitHub's list is
# mostly Azure ranges its Actions runners rent (3,520 of its 4,075 ranges lie inside Azure's), and it is the
# one a look-up names for them.
_SHARED = ("amazon aws", "gcp", "google cloud", "azure", "github", "cloudflare", "akamai", "fastly", "stackpath",
           "ovh cluster")


class Silence(enum.Enum):
    everyone = "everyone"  # never alerts
    shared = "shared"  # alerts only an organisation that verified the address as its own


class _Ranges:
    """Address ranges (32-hex-digit bounds, as ``Observable`` keeps them) that do not overlap."""

    def __init__(self, ranges: Iterable[tuple[str, str]]) -> None:
        ordered = sorted(ranges)
        self._los = [lo for lo, _ in ordered]
        self._his = [hi for _, hi in ordered]

    def holds(self, lo: str, hi: str) -> bool:
        """Is ``lo``..``hi`` inside a listed range? Only the last one starting at or before ``lo`` can hold it."""
        i = bisect.bisect_right(self._los, lo) - 1
        return i >= 0 and hi <= self._his[i]


class Benign:
    """Membership tests for addresses (inside a listed range) and domains (a listed one or under it)."""

    def __init__(self, lines: Iterable[str], shared: Iterable[str] = (), *, warninglists_too: bool = False) -> None:
        ranges, names = _parse(lines)
        self._everyone = _Ranges(ranges)
        self.domains = frozenset(names)
        self._shared = _Ranges(_parse(shared)[0])
        self._warninglists = warninglists_too

    def domain(self, host: str) -> bool:
        labels = host.split(".")
        return any(".".join(labels[i:]) in self.domains for i in range(len(labels) - 1))

    def silence(self, kind: str, value: str, lo: str | None = None, hi: str | None = None) -> Silence | None:
        """Why the observable (``Observable`` columns) does not alert, if it does not; a list that silences
        it for everyone wins over a shared range."""
        listed = warned(kind, value) if self._warninglists else None
        if lo is not None and hi is not None:
            if self._everyone.holds(lo, hi):
                return Silence.everyone
            return Silence.shared if listed is None and self._shared.holds(lo, hi) else listed
        if kind in ("domain", "email-domain") and self.domain(value):
            return Silence.everyone
        return listed


def _parse(lines: Iterable[str]) -> tuple[list[tuple[str, str]], set[str]]:
    """(address ranges, domain names) of a list file: one value a line, ``#`` comments."""
    ranges: list[tuple[str, str]] = []
    names = set()
    for line in lines:
        value = line.split("#", 1)[0].strip()
        if not value:
            continue
        ip = ip_observable(value)
        if ip is not None and ip.ip_lo and ip.ip_hi:
            ranges.append((ip.ip_lo, ip.ip_hi))
        else:
            names.add(normalise_domain(value))
    return ranges, names


def warned(kind: str, value: str) -> Silence | None:
    """How a warninglist silences the value for alerts, if one does (see the module's docstring)."""
    name = warninglists.is_benign(kind, value)
    if name is None:
        return None
    lowered = name.lower()
    if any(word in lowered for word in _SHARED):
        return Silence.shared
    return None if any(word in lowered for word in _NOT_FOR_ALERTS) else Silence.everyone


def load() -> None:
    """Read both lists now (a worker's start, a benchmark's setup), not in the first matching run."""
    builtin()
    warninglists.is_benign("domain", "localhost")


@cache
def builtin() -> Benign:
    folder = resources.files("exchange.alerts")
    return Benign(folder.joinpath("benign.txt").read_text(encoding="utf-8").splitlines(),
                  folder.joinpath("cloud.txt").read_text(encoding="utf-8").splitlines(), warninglists_too=True)
