"""Pull matchable values out of indicator patterns and SCOs into normalised (kind, value) rows.

These rows are what "is this known bad?" look-ups and, later, alert matching join on, so every
value is normalised the way an asset will be: lower-case hosts without a trailing dot, lower-case
hex hashes, upper-case CVE ids, and IP addresses as closed integer ranges (see ``Observable``).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from exchange.core.text import NUL
from exchange.stix.patterns.errors import PatternError
from exchange.stix.patterns.observables import terms
from exchange.stix.patterns.validate import checked

MAX_VALUE_LENGTH = 1024  # longer values are not indexed (B-tree entries have a size limit)
_V4_MAPPED = 0xFFFF << 32
_DOTTED_QUAD = re.compile(r"(?:(?:0|[1-9]\d{0,2})\.){3}(?:0|[1-9]\d{0,2})\Z")
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


def _extract(obj: dict[str, Any]) -> Iterator[Extracted]:
    kind = obj.get("type")
    if kind == "indicator" and obj.get("pattern_type") == "stix":
        yield from _from_pattern(obj["pattern"])
    elif kind == "vulnerability":
        yield from _cves(obj)
    elif kind == "software" and isinstance(obj.get("cpe"), str):
        yield Extracted("cpe", obj["cpe"].lower())
    elif kind == "file" and isinstance(obj.get("hashes"), dict):
        for algorithm, digest in obj["hashes"].items():
            yield from from_comparison("file", ["hashes", algorithm], digest)
    elif isinstance(kind, str) and isinstance(obj.get("value"), str):
        yield from from_comparison(kind, ["value"], obj["value"])


def _from_pattern(pattern: Any) -> Iterator[Extracted]:
    """Rows for the pattern's indexable terms (``patterns.observables``); none for a pattern that
    is not valid STIX 2.1 (one of another ``pattern_version`` that the fast path did not take)."""
    try:
        tree = checked(pattern) if type(pattern) is str else None
    except PatternError:
        return
    if tree is not None:
        for sco, path, value in terms(tree):
            yield from from_comparison(sco, path, value)


def from_comparison(sco: str, path: Sequence[str], value: str) -> Iterator[Extracted]:
    """Observables for ``sco:path = value``: the one place a pattern term or SCO becomes rows."""
    if len(path) == 1 and path[0] == "value":
        if sco == "domain-name":
            yield Extracted("domain", normalise_domain(value))
        elif sco in ("ipv4-addr", "ipv6-addr"):
            ip = ip_observable(value)
            if ip is not None:
                yield ip
        elif sco == "url":
            yield from _url(value)
        elif sco == "email-addr":
            address = value.strip().lower()
            yield Extracted("email", address)
            if "@" in address:
                yield Extracted("email-domain", normalise_domain(address.rpartition("@")[2]))
    elif sco == "file" and len(path) == 2 and path[0] == "hashes":
        kind = _HASH_KINDS.get(path[1].lower())
        if kind is not None:
            yield Extracted(kind, value.strip().lower())
    elif sco == "software" and len(path) == 1 and path[0] == "cpe":
        yield Extracted("cpe", value.lower())


def _url(value: str) -> Iterator[Extracted]:
    url = value.strip()
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return
    if parts.scheme and parts.netloc:
        url = parts._replace(scheme=parts.scheme.lower(), netloc=parts.netloc.lower()).geturl()
    yield Extracted("url", url)
    if host:
        ip = ip_observable(host) if host[-1].isdigit() or ":" in host else None
        yield ip or Extracted("domain", normalise_domain(host))


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
        octets = [int(p) for p in value.split(".")]
        if max(octets) <= 255:
            n = _V4_MAPPED | octets[0] << 24 | octets[1] << 16 | octets[2] << 8 | octets[3]
            return Extracted("ipv4", value, f"{n:032x}", f"{n:032x}")
    try:
        net = ipaddress.ip_network(value, strict=False)
    except ValueError:
        return None
    lo, hi = int(net.network_address), int(net.broadcast_address)
    if net.version == 4:
        lo, hi = lo | _V4_MAPPED, hi | _V4_MAPPED
    text = str(net.network_address) if net.prefixlen == net.max_prefixlen else str(net)
    return Extracted(f"ipv{net.version}", text, f"{lo:032x}", f"{hi:032x}")
