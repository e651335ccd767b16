"""The built-in benign list (``benign.txt``): values that never alert, read once per process."""

from __future__ import annotations

import bisect
from functools import cache
from importlib import resources

from exchange.stix.observables import ip_observable, normalise_domain


class Benign:
    """Membership tests for addresses (inside a listed range) and domains (a listed one or under it)."""

    def __init__(self, lines: list[str]) -> None:
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

    def address(self, lo: str, hi: str) -> bool:
        """Is the range ``lo``..``hi`` (32-hex-digit bounds, as ``Observable`` keeps them) inside a listed one?
        Listed ranges do not overlap, so only the last one starting at or before ``lo`` can hold it."""
        i = bisect.bisect_right(self._los, lo) - 1
        return i >= 0 and hi <= self._his[i]

    def domain(self, host: str) -> bool:
        labels = host.split(".")
        return any(".".join(labels[i:]) in self.domains for i in range(len(labels) - 1))


@cache
def builtin() -> Benign:
    text = resources.files("exchange.alerts").joinpath("benign.txt").read_text(encoding="utf-8")
    return Benign(text.splitlines())
