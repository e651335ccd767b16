"""MISP warninglists: values on well-known benign lists (top sites, public DNS resolvers, cloud and
CDN ranges, RFC 1918 and other reserved ranges). An indicator naming one is stored but must never
become an alert; ``is_benign`` names the list, so the publisher is told why.

The lists are the data of the ``pymispwarninglists`` package (the ``warninglists`` extra; about
20 MB, offline, nothing downloaded), read from its JSON files once per process on first use: exact values by name,
host names with their parent domains, address ranges by prefix length (one dictionary probe per
length, so a look-up costs the same whatever the number of ranges). Without the package nothing is
flagged. Substring and regex lists are not used: they are few, and would need a scan per value.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import orjson

# The million-entry popularity lists (Tranco, Chrome UX) are left out: popular sites get compromised,
# and an alert about one is what an SME needs most. So are lists that say what a value *is* rather
# than that it is harmless: dynamic DNS, VPN and data-centre ranges, IPFS gateways, link-in-bio hosts,
# the sites attackers live off (LOTS).
MAX_LIST_BYTES = 5 * 2**20
NOT_BENIGN = ("dynamic dns", "vpn-ipv4", "ipfs", "link in bio", "living off trusted sites")
_IP_KINDS = frozenset({"ipv4", "ipv6"})
_HOST_KINDS = frozenset({"domain", "email-domain"})


@dataclass(slots=True)
class _Index:
    values: dict[str, str] = field(default_factory=dict)  # exact value (lower case) -> list name
    hosts: dict[str, str] = field(default_factory=dict)  # host name -> list name (matches its subdomains)
    # (version, prefix length) -> {network address as int: list name}
    ranges: dict[tuple[int, int], dict[int, str]] = field(default_factory=dict)

    def add_range(self, text: str, name: str) -> None:
        try:
            network = ipaddress.ip_network(text.strip(), strict=False)
        except ValueError:
            return
        self.ranges.setdefault((network.version, network.prefixlen), {}).setdefault(
            int(network.network_address), name)


def _lists() -> list[Path]:
    try:
        import pymispwarninglists  # the optional ``warninglists`` extra
    except ImportError:
        return []
    folder = Path(pymispwarninglists.__file__).parent / "data" / "misp-warninglists" / "lists"
    return sorted(folder.glob("*/list.json"))


@cache
def _index() -> _Index:
    index = _Index()
    for path in _lists():
        if path.stat().st_size > MAX_LIST_BYTES:
            continue
        warninglist = orjson.loads(path.read_bytes())
        name, kind = str(warninglist.get("name", path.parent.name)), warninglist.get("type")
        if any(word in name.lower() for word in NOT_BENIGN):
            continue
        for entry in warninglist.get("list", []):
            value = str(entry).strip().lower()
            if kind == "cidr":
                index.add_range(value, name)
            elif kind == "hostname" and not name.lower().startswith("top "):
                index.hosts.setdefault(value.strip(".").removeprefix("*."), name)
            elif kind in ("string", "hostname"):  # a popular site is itself, not every host under it
                index.values.setdefault(value, name)
    return index


def _in_ranges(index: _Index, value: str) -> str | None:
    try:
        address = ipaddress.ip_address(value.split("/")[0])
    except ValueError:
        return None
    bits = address.max_prefixlen
    number = int(address)
    for length in range(bits, -1, -1):
        found = index.ranges.get((address.version, length))
        if found is not None:
            name = found.get(number >> (bits - length) << (bits - length))
            if name is not None:
                return name
    return None


def _host(index: _Index, host: str) -> str | None:
    """The host itself on any list, or one of its parent domains on a host-name list."""
    host = host.strip(".").lower()
    name = index.values.get(host) or index.hosts.get(host)
    labels = host.split(".")
    for i in range(1, len(labels) - 1):
        name = name or index.hosts.get(".".join(labels[i:]))
    return name


def is_benign(kind: str, value: str) -> str | None:
    """The name of a warninglist ``value`` is on, or None. ``kind`` is an observable kind
    (``exchange.stix.observables``: domain, email-domain, ipv4, ipv6, url, a hash, ...)."""
    index = _index()
    if kind in _IP_KINDS:
        return index.values.get(value.lower()) or _in_ranges(index, value)
    if kind in _HOST_KINDS:
        return _host(index, value)
    if kind == "url":
        host = urlsplit(value).hostname or ""
        return (index.values.get(value.lower()) or _host(index, host)
                or (_in_ranges(index, host) if host else None))
    return index.values.get(value.lower())
