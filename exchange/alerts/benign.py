"""Values that never alert: the built-in list (``benign.txt``) and the MISP warninglists.

``benign.txt`` is small and always there (public resolvers, shared CDN ranges, connectivity checks);
the warninglists (``exchange.feeds.warninglists``, the optional ``pymispwarninglists`` data: public DNS
resolvers, cloud and CDN ranges, well-known services) are read once per process when installed.
Matching asks only about a value that hit an asset, so a look-up here is rare and its cost does not
count; ``prepare`` (the worker's start) reads the lists before the first run.

Two kinds of warninglist are not used here: the "List of RFC …" lists (private, documentation,
multicast ranges and special-use names), because the inventory refuses such assets anyway
(decision 0010) and with ``EXCHANGE_ASSETS_ALLOW_RESERVED`` (tests, demos) they are exactly the assets
registered; and the VPN-provider and data-centre lists, because an SME's own server is in a data
centre, and a report about it is what it must hear.
"""

from __future__ import annotations

import bisect
from functools import cache
from importlib import resources

from exchange.feeds import warninglists
from exchange.stix.observables import ip_observable, normalise_domain

_NOT_FOR_ALERTS = ("list of rfc ", "vpn providers", "datacenter", "data centre")


class Benign:
    """Membership tests for addresses (inside a listed range) and domains (a listed one or under it)."""

    def __init__(self, lines: list[str], *, warninglists_too: bool = False) -> None:
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
        ranges.sort()
        self._los = [lo for lo, _ in ranges]
        self._his = [hi for _, hi in ranges]
        self.domains = frozenset(names)
        self._warninglists = warninglists_too

    def address(self, lo: str, hi: str) -> bool:
        """Is the range ``lo``..``hi`` (32-hex-digit bounds, as ``Observable`` keeps them) inside a listed one?
        Listed ranges do not overlap, so only the last one starting at or before ``lo`` can hold it."""
        i = bisect.bisect_right(self._los, lo) - 1
        return i >= 0 and hi <= self._his[i]

    def domain(self, host: str) -> bool:
        labels = host.split(".")
        return any(".".join(labels[i:]) in self.domains for i in range(len(labels) - 1))

    def is_benign(self, kind: str, value: str, lo: str | None = None, hi: str | None = None) -> bool:
        """Is the observable (``Observable`` columns) on the built-in list or on a warninglist used here?"""
        if lo is not None and hi is not None:
            if self.address(lo, hi):
                return True
        elif kind in ("domain", "email-domain") and self.domain(value):
            return True
        return self._warninglists and warned(kind, value)


def warned(kind: str, value: str) -> bool:
    """On a warninglist that means "harmless" for alerts (see the module's docstring)?"""
    name = warninglists.is_benign(kind, value)
    return name is not None and not any(word in name.lower() for word in _NOT_FOR_ALERTS)


def load() -> None:
    """Read both lists now (a worker's start, a benchmark's setup), not in the first matching run."""
    builtin()
    warninglists.is_benign("domain", "localhost")


@cache
def builtin() -> Benign:
    text = resources.files("exchange.alerts").joinpath("benign.txt").read_text(encoding="utf-8")
    return Benign(text.splitlines(), warninglists_too=True)
