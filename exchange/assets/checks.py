"""The network look-ups of ownership verification: a DNS TXT record, a file or <meta> tag on the web
site, and the abuse contact of an address range or AS over RDAP.

Each returns what it found and never raises on a failed look-up: "not found" is an answer the owner
can act on (``Found.detail`` says what was asked and what came back). The threat model of each is in
docs/decisions/0010-assets.md.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

import dns.exception
import dns.resolver
import httpx

from exchange.core.settings import Settings
from exchange.core.turns import leave_turn

PREFIX = "exchange-verification="  # TXT record and file line: exchange-verification=<challenge>
WELL_KNOWN = "/.well-known/exchange-verification"
META_NAME = "exchange-verification"
MAX_PAGE_BYTES = 64 * 1024  # a verification file is one line; a page's <meta> sits in its head
TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class Found:
    ok: bool
    detail: str


def dns_txt(name: str, challenge: str, settings: Settings) -> Found:
    """Is ``exchange-verification=<challenge>`` among the TXT records of ``name``?"""
    leave_turn()  # the DNS may take up to the timeout: pages go on meanwhile
    resolver = dns.resolver.Resolver(configure=not settings.assets_dns_nameservers)
    if settings.assets_dns_nameservers:
        resolver.nameservers = list(settings.assets_dns_nameservers)
        resolver.port = settings.assets_dns_port
    resolver.lifetime = TIMEOUT_SECONDS
    try:
        answer = resolver.resolve(name, "TXT", raise_on_no_answer=False)
    except dns.resolver.NXDOMAIN:
        return Found(False, f"{name} does not exist in the DNS")
    except dns.exception.DNSException as exc:
        return Found(False, f"the DNS did not answer for {name}: {exc}")
    texts = [b"".join(record.strings).decode("utf-8", "replace") for record in answer]
    if f"{PREFIX}{challenge}" in texts:
        return Found(True, f"TXT record found at {name}")
    return Found(False, f"no TXT record {PREFIX}{challenge} at {name} ({len(texts)} other TXT records)")


def web_file(host: str, challenge: str, settings: Settings) -> Found:
    """Does https://HOST/.well-known/exchange-verification hold the challenge, as a line
    ``exchange-verification=<challenge>`` or as ``<meta name="exchange-verification" content="<challenge>">``?

    SSRF-safe: the host is resolved here and the request goes to that checked, public address (no
    second resolution to rebind), with no redirects, a size cap and a timeout; the certificate is
    verified against the host name. ``assets_http_insecure`` (tests) allows http and loopback."""
    leave_turn()  # resolving and fetching may take up to the timeouts: pages go on meanwhile
    target = _address(host, settings)
    if isinstance(target, Found):
        return target
    address, port = target
    scheme = "http" if settings.assets_http_insecure else "https"
    literal = f"[{address}]" if ":" in address else address
    try:
        with httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False, trust_env=False) as client, \
                client.stream("GET", f"{scheme}://{literal}:{port}{WELL_KNOWN}", headers={"Host": host},
                              extensions={"sni_hostname": host}) as response:
            body = _capped(response)
            status = response.status_code
    except httpx.HTTPError as exc:
        return Found(False, f"{scheme}://{host}{WELL_KNOWN} could not be fetched: {exc}")
    if status != 200:
        return Found(False, f"{scheme}://{host}{WELL_KNOWN} answered {status}")
    text = body.decode("utf-8", "replace")
    if f"{PREFIX}{challenge}" in text.split() or challenge in _meta_contents(text):
        return Found(True, f"challenge found at {scheme}://{host}{WELL_KNOWN}")
    return Found(False, f"{scheme}://{host}{WELL_KNOWN} does not hold {PREFIX}{challenge}")


def _address(host: str, settings: Settings) -> tuple[str, int] | Found:
    """The one address the fetch may connect to, or why there is none."""
    fixed = settings.assets_http_resolve.get(host)
    if fixed is not None:
        address, _, fixed_port = fixed.rpartition(":")
        candidates = [(address.strip("[]"), int(fixed_port))]
    else:
        port = 80 if settings.assets_http_insecure else 443
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            return Found(False, f"{host} does not resolve: {exc}")
        candidates = [(str(info[4][0]), port) for info in infos]
    for address, port_ in candidates:
        ip = ipaddress.ip_address(address)
        if ip.is_global or (settings.assets_http_insecure and ip.is_loopback):
            return address, port_
    return Found(False, f"{host} resolves to no public address; the hub only fetches from public addresses")


def _capped(response: httpx.Response) -> bytes:
    body = b""
    for chunk in response.iter_bytes():
        body += chunk
        if len(body) >= MAX_PAGE_BYTES:
            break
    return body[:MAX_PAGE_BYTES]


class _Meta(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.contents: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "meta" and (values.get("name") or "").lower() == META_NAME:
            self.contents.append((values.get("content") or "").strip())


def _meta_contents(text: str) -> list[str]:
    parser = _Meta()
    parser.feed(text)
    return parser.contents


def rdap_abuse_email(kind: str, value: str, settings: Settings) -> Found:
    """The abuse contact's e-mail of an IP range (``kind`` ip) or AS (``kind`` autnum), from the RDAP
    service of the settings (it may redirect to the registry that holds the record)."""
    leave_turn()  # up to the timeout: pages go on meanwhile
    url = f"{settings.assets_rdap_url.rstrip('/')}/{kind}/{value}"
    try:
        with httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=True, max_redirects=3, trust_env=False) as client:
            response = client.get(url, headers={"Accept": "application/rdap+json"})
        record = response.json() if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError) as exc:
        return Found(False, f"RDAP at {url} could not be read: {exc}")
    if not isinstance(record, dict):
        return Found(False, f"RDAP at {url} answered {response.status_code}")
    email = _abuse_email(record.get("entities"))
    return Found(True, email) if email else Found(False, f"RDAP names no abuse e-mail for {value}")


def _abuse_email(entities: Any) -> str | None:
    """The first e-mail of an entity with the ``abuse`` role, searching nested entities (RFC 9083 §5.1)."""
    if not isinstance(entities, list):
        return None
    for entity in entities:
        if not isinstance(entity, dict):
            continue
        if "abuse" in (entity.get("roles") or ()):
            vcard = entity.get("vcardArray")
            properties = vcard[1] if isinstance(vcard, list) and len(vcard) == 2 else []
            for prop in properties if isinstance(properties, list) else ():
                if isinstance(prop, list) and len(prop) == 4 and prop[0] == "email" and isinstance(prop[3], str):
                    return prop[3].strip()
        nested = _abuse_email(entity.get("entities"))
        if nested:
            return nested
    return None
