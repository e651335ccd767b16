"""Turn what an organisation types into the one normalised value alert matching compares.

Each function returns a ``Normalised`` or raises ``BadRequest`` naming the rule the input broke. The
rules and their reasons are in docs/decisions/0010-assets.md; in short: hosts are lower-case ASCII
(IDNA 2008 with UTS #46 mapping) without a trailing dot, and a public suffix (``co.uk``,
``github.io``) is refused, found with ``tldextract``'s bundled snapshot of the Public Suffix List
and never over the network; addresses and ranges must be public and no wider than the settings
allow; software is a CPE 2.3 name or a package URL.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from functools import cache
from urllib.parse import urlsplit

import idna
import tldextract
from packageurl import PackageURL

from exchange.assets.models import AssetKind
from exchange.core.errors import BadRequest
from exchange.core.text import NUL

_V4_MAPPED = 0xFFFF << 32  # as exchange.stix.observables: IPv4 ranges live in ::ffff:0:0/96
# Reserved for testing and documentation (RFC 2606, RFC 6761, RFC 6762, RFC 8375, RFC 9476).
_RESERVED_TLDS = frozenset({"test", "example", "invalid", "localhost", "local", "internal", "alt", "onion"})
_RESERVED_NAMES = frozenset({"example.com", "example.net", "example.org", "home.arpa"})
# Special-purpose ranges (IANA registries, RFC 6890) a range may contain without its ends being in them;
# ``is_global`` on the two ends catches the rest.
_SPECIAL_V4 = tuple(ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24",
    "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24",
    "224.0.0.0/4", "240.0.0.0/4"))
_SPECIAL_V6 = tuple(ipaddress.ip_network(n) for n in (
    "::/8", "64:ff9b::/96", "64:ff9b:1::/48", "100::/64", "2001::/32", "2001:2::/48", "2001:10::/28",
    "2001:20::/28", "2001:db8::/32", "2002::/16", "3fff::/20", "fc00::/7", "fe80::/10", "ff00::/8"))
# AS numbers for documentation (RFC 5398) and private use (RFC 6996), 0, AS_TRANS and the last of each space.
_RESERVED_ASNS = ((0, 0), (23456, 23456), (64496, 65535), (65536, 65551), (4200000000, 4294967295))
_ASN = re.compile(r"(?:AS)?(\d{1,10})\Z", re.IGNORECASE)
_CPE_SPLIT = re.compile(r"(?<!\\):")
_CPE_PARTS = frozenset({"a", "o", "h"})
_ANY = frozenset({"*", "-", ""})


@dataclass(frozen=True, slots=True)
class Normalised:
    kind: AssetKind
    value: str
    ip_lo: str | None = None
    ip_hi: str | None = None
    sw_vendor: str | None = None
    sw_product: str | None = None
    sw_version: str | None = None
    sw_purl_type: str | None = None


@dataclass(frozen=True, slots=True)
class Limits:
    """What the settings allow; passed in so the rules stay pure and every caller applies the same ones."""

    allow_reserved: bool = False
    max_prefix_v4: int = 16
    max_prefix_v6: int = 32


@cache
def _suffixes() -> tldextract.TLDExtract:
    """The bundled Public Suffix List snapshot only: no URL to fetch, no cache directory to write.

    Private suffixes (``github.io``, ``blogspot.com``) count: registering one would claim every site under it."""
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True)


def normalise(kind: AssetKind, raw: str, limits: Limits) -> Normalised:
    """The normalised asset of ``kind`` for ``raw``; BadRequest with the reason when it cannot be one."""
    raw = raw.strip()
    if not raw or len(raw) > 1024 or NUL in raw:
        raise BadRequest(f"a {kind.value} asset needs a value of 1 to 1024 characters")
    if kind in (AssetKind.domain, AssetKind.mail_domain):
        return Normalised(kind, domain(raw, limits))
    if kind in (AssetKind.ipv4, AssetKind.ipv6, AssetKind.cidr):
        return _network(kind, raw, limits)
    if kind == AssetKind.asn:
        return Normalised(kind, str(asn(raw, limits)))
    if kind == AssetKind.url:
        return Normalised(kind, url(raw, limits))
    return software(raw)


def domain(raw: str, limits: Limits) -> str:
    """A registrable domain or a name under one, as lower-case ASCII."""
    try:
        host = idna.encode(raw.rstrip("."), uts46=True).decode("ascii")
    except idna.IDNAError as exc:
        raise BadRequest(f"{raw[:100]!r} is not a valid domain name: {exc}") from None
    labels = host.split(".")
    if len(labels) < 2:
        raise BadRequest(f"{host!r} is not a domain name under a public suffix (e.g. shop.example.fr)")
    if labels[-1] in _RESERVED_TLDS or ".".join(labels[-2:]) in _RESERVED_NAMES:
        if not limits.allow_reserved:
            raise BadRequest(f"{host!r} is a reserved name (RFC 2606/6761) and cannot be an asset")
        return host
    parts = _suffixes()(host)
    if not parts.suffix:
        raise BadRequest(f"{host!r} does not end in a known public suffix")
    if not parts.domain:
        raise BadRequest(f"{host!r} is a public suffix: register your own domain under it")
    return host


def _network(kind: AssetKind, raw: str, limits: Limits) -> Normalised:
    try:
        net = ipaddress.ip_network(raw, strict=False)
    except ValueError:
        raise BadRequest(f"{raw[:100]!r} is not an IP address or CIDR range") from None
    single = net.prefixlen == net.max_prefixlen
    if kind == AssetKind.cidr and single:
        kind = AssetKind.ipv4 if net.version == 4 else AssetKind.ipv6  # one address is an address
    elif kind != AssetKind.cidr and (not single or kind.value != f"ipv{net.version}"):
        raise BadRequest(f"{raw[:100]!r} is not one {kind.value} address; use --cidr for a range")
    widest = limits.max_prefix_v4 if net.version == 4 else limits.max_prefix_v6
    if net.prefixlen < widest:
        raise BadRequest(f"{net} is wider than /{widest}, the widest range an asset may be; register the parts "
                         "you operate")
    text = str(net.network_address) if single else str(net)
    if not limits.allow_reserved and _special(net):
        raise BadRequest(f"{text} is a private, reserved or documentation range; only public addresses can be assets")
    lo, hi = int(net.network_address), int(net.broadcast_address)
    if net.version == 4:
        lo, hi = lo | _V4_MAPPED, hi | _V4_MAPPED
    return Normalised(kind, text, f"{lo:032x}", f"{hi:032x}")


def _special(net: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    if not (net.network_address.is_global and net.broadcast_address.is_global):
        return True
    special = _SPECIAL_V4 if net.version == 4 else _SPECIAL_V6
    return any(net.overlaps(s) for s in special)


def asn(raw: str, limits: Limits) -> int:
    match = _ASN.match(raw.replace(" ", ""))
    number = int(match.group(1)) if match else -1
    if not 0 <= number <= 4294967295:
        raise BadRequest(f"{raw[:100]!r} is not an AS number (1 to 4294967295, optionally written AS64500)")
    if not limits.allow_reserved and any(lo <= number <= hi for lo, hi in _RESERVED_ASNS):
        raise BadRequest(f"AS{number} is reserved for documentation or private use (RFC 5398, 6996)")
    return number


def url(raw: str, limits: Limits) -> str:
    """An http(s) URL with a lower-case scheme and host (IDNA), as the observable table writes URLs.

    Backslashes, blanks and credentials are refused: browsers and ``urlsplit`` disagree on where the host
    of ``https://shop.example\\@evil.example/`` is, and an asset must mean one host."""
    if any(c in raw for c in "\\ \t\r\n"):
        raise BadRequest(f"{raw[:100]!r} is not a valid URL: no backslashes or blanks")
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError as exc:
        raise BadRequest(f"{raw[:100]!r} is not a valid URL: {exc}") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise BadRequest(f"{raw[:100]!r} is not an http or https URL with a host")
    if "@" in parts.netloc:
        raise BadRequest(f"{raw[:100]!r} carries a user name or password; register the URL without them")
    host = parts.hostname
    if ":" in host or host[-1].isdigit():
        address = _network(AssetKind.cidr, host, limits).value
        host = f"[{address}]" if ":" in address else address
    else:
        host = domain(host, limits)
    netloc = host if port is None else f"{host}:{port}"
    return parts._replace(scheme=parts.scheme.lower(), netloc=netloc, fragment="").geturl()


def cpe_word(text: object) -> str:
    """A vendor or product name the way CPE 2.3 writes it ("Palo Alto Networks" -> "palo_alto_networks"), so
    names from advisories, feeds and the software picker meet the inventory's CPE names."""
    return "_".join(str(text).lower().split())


def software(raw: str) -> Normalised:
    """A CPE 2.3 formatted string (``cpe:2.3:a:vendor:product:version:…``) or a package URL (``pkg:…``)."""
    if raw.lower().startswith("cpe:2.3:"):
        return _cpe(raw)
    if raw.lower().startswith("pkg:"):
        return _purl(raw)
    raise BadRequest(f"{raw[:100]!r} is neither a CPE 2.3 name (cpe:2.3:a:vendor:product:version:…) nor a "
                     "package URL (pkg:type/namespace/name@version)")


def _cpe(raw: str) -> Normalised:
    fields = _CPE_SPLIT.split(raw.lower())
    if len(fields) < 5 or len(fields) > 13:
        raise BadRequest(f"{raw[:100]!r} is not a CPE 2.3 formatted string: cpe:2.3:part:vendor:product"
                         "[:version…], 13 fields at most")
    fields += ["*"] * (13 - len(fields))  # trailing "any" fields may be left out
    part, vendor, product, version = fields[2:6]
    if part not in _CPE_PARTS:
        raise BadRequest(f"CPE part {part!r} is not a (application), o (operating system) or h (hardware)")
    if vendor in _ANY or product in _ANY:
        raise BadRequest("a CPE asset must name its vendor and product")
    return Normalised(AssetKind.software, ":".join(fields), sw_vendor=vendor, sw_product=product,
                      sw_version=None if version in _ANY else version)


def _purl(raw: str) -> Normalised:
    try:
        purl = PackageURL.from_string(raw)
    except ValueError as exc:
        raise BadRequest(f"{raw[:100]!r} is not a valid package URL: {exc}") from None
    return Normalised(AssetKind.software, purl.to_string(), sw_vendor=purl.namespace or None,
                      sw_product=purl.name, sw_version=purl.version or None, sw_purl_type=purl.type)
