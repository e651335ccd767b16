"""Pull matchable values out of indicator patterns and SCOs into normalised (kind, value) rows.

These rows are what "is this known bad?" look-ups and, later, alert matching join on, so every
value is normalised the way an asset will be: lower-case hosts without a trailing dot, lower-case
hex hashes, upper-case CVE ids, and IP addresses as closed integer ranges (see ``Observable``).
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from exchange.core.text import NUL
from exchange.stix.patterns.errors import PatternError
from exchange.stix.patterns.observables import terms
from exchange.stix.patterns.validate import checked

MAX_VALUE_LENGTH = 1024  # longer values are not indexed (B-tree entries have a size limit)
_V4_MAPPED = 0xFFFF << 32
_V4_MAPPED_PREFIX = f"{_V4_MAPPED:032x}"[:24]  # the 24 hex digits before an IPv4 address's 8
# A dotted quad in canonical form (no leading zeros), every octet at most 255.
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_DOTTED_QUAD = re.compile(rf"(?:{_OCTET}\.){{3}}{_OCTET}\Z")
_CVE = re.compile(r"CVE-\d{4}-\d{4,}\Z", re.IGNORECASE)
_HASH_KINDS = {"md5": "md5", "sha-1": "sha1", "sha1": "sha1", "sha-256": "sha256", "sha256": "sha256",
               "sha-512": "sha512", "sha512": "sha512"}


class Extracted(NamedTuple):
    kind: str
    value: str
    ip_lo: str | None = None
    ip_hi: str | None = None


def extract(obj: dict[str, Any]) -> list[Extracted]:
    """Every observable of a valid STIX object, without duplicates, in a stable order."""
    # NUL cannot be stored in a PostgreSQL text column, and is never part of a real indicator value.
    found = dict.fromkeys(e for e in _extract(obj) if 0 < len(e.value) <= MAX_VALUE_LENGTH and NUL not in e.value)
    return list(found)


def _extract(obj: dict[str, Any]) -> list[Extracted]:
    """Lists rather than generators, here and below: this runs for every stored object, and a
    generator per step and term cost more than the rows themselves (decision 0009)."""
    kind = obj.get("type")
    if kind == "indicator" and obj.get("pattern_type") == "stix":
        return _from_pattern(obj["pattern"])
    if kind == "vulnerability":
        return list(_cves(obj))
    if kind == "software" and isinstance(obj.get("cpe"), str):
        return [Extracted("cpe", obj["cpe"].lower())]
    if kind == "file" and isinstance(obj.get("hashes"), dict):
        return [e for algorithm, digest in obj["hashes"].items()
                for e in from_comparison("file", ["hashes", algorithm], digest)]
    if isinstance(kind, str) and isinstance(obj.get("value"), str):
        return from_comparison(kind, ["value"], obj["value"])
    return []


def _from_pattern(pattern: Any) -> list[Extracted]:
    """Rows for the pattern's indexable terms (``patterns.observables``); none for a pattern that
    is not valid STIX 2.1 (one of another ``pattern_version`` that the fast path did not take)."""
    try:
        tree = checked(pattern) if type(pattern) is str else None
    except PatternError:
        return []
    rows: list[Extracted] = []
    if tree is not None:
        for sco, path, value in terms(tree):
            rows.extend(from_comparison(sco, path, value))
    return rows


def from_comparison(sco: str, path: Sequence[str], value: str) -> list[Extracted]:
    """Observables for ``sco:path = value``: the one place a pattern term or SCO becomes rows."""
    if len(path) == 1 and path[0] == "value":
        if sco == "domain-name":
            return [Extracted("domain", normalise_domain(value))]
        if sco == "ipv4-addr" or sco == "ipv6-addr":
            ip = ip_observable(value)
            return [] if ip is None else [ip]
        if sco == "url":
            return _url(value)
        if sco == "email-addr":
            address = value.strip().lower()
            if "@" not in address:
                return [Extracted("email", address)]
            return [Extracted("email", address),
                    Extracted("email-domain", normalise_domain(address.rpartition("@")[2]))]
    elif sco == "file" and len(path) == 2 and path[0] == "hashes":
        kind = _HASH_KINDS.get(path[1].lower())
        if kind is not None:
            return [Extracted(kind, value.strip().lower())]
    elif sco == "software" and len(path) == 1 and path[0] == "cpe":
        return [Extracted("cpe", value.lower())]
    return []


def _url(value: str) -> list[Extracted]:
    url = value.strip()
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return []
    if parts.scheme and parts.netloc:
        url = parts._replace(scheme=parts.scheme.lower(), netloc=parts.netloc.lower()).geturl()
    if not host:
        return [Extracted("url", url)]
    ip = ip_observable(host) if host[-1].isdigit() or ":" in host else None
    return [Extracted("url", url), ip or Extracted("domain", normalise_domain(host))]


def _cves(obj: dict[str, Any]) -> Iterator[Extracted]:
    name = obj.get("name")
    if isinstance(name, str) and _CVE.match(name.strip()):
        yield Extracted("cve", name.strip().upper())
    for ref in obj.get("external_references") or ():
        if isinstance(ref, dict) and ref.get("source_name") == "cve" and isinstance(ref.get("external_id"), str):
            if _CVE.match(ref["external_id"].strip()):
                yield Extracted("cve", ref["external_id"].strip().upper())


def normalise_domain(value: str) -> str:
    host = value.strip().rstrip(".").lower()
    if host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


def ip_observable(value: str) -> Extracted | None:
    """An address or CIDR block as a closed range; None when it is neither."""
    value = value.strip()
    if _DOTTED_QUAD.match(value):  # the common case, ten times cheaper than ipaddress
        # inet_aton reads more forms than this (``1.2.3``, octal, hex), never these differently.
        key = _V4_MAPPED_PREFIX + socket.inet_aton(value).hex()
        return Extracted("ipv4", value, key, key)
    try:
        net = ipaddress.ip_network(value, strict=False)
    except ValueError:
        return None
    lo, hi = int(net.network_address), int(net.broadcast_address)
    if net.version == 4:
        lo, hi = lo | _V4_MAPPED, hi | _V4_MAPPED
    text = str(net.network_address) if net.prefixlen == net.max_prefixlen else str(net)
    return Extracted(f"ipv{net.version}", text, f"{lo:032x}", f"{hi:032x}")
