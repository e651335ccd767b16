"""Where a webhook may go: a URL is resolved once, checked, and the request goes to that very address.

Checking a name and then letting the HTTP client resolve it again would let a DNS answer change in
between (DNS rebinding): the check would see a public address, the connection a private one. So
``resolve`` returns the address it checked, and ``webhook`` connects to it, with the name kept for
the ``Host`` header and for TLS (SNI and certificate check). Loopback, private, link-local (cloud
metadata at 169.254.169.254), shared and reserved addresses are refused, and plain http too, unless
``webhook_allowed_hosts`` names the host or the address (tests and demos).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Collection
from dataclasses import dataclass
from urllib.parse import urlsplit

from exchange.core.errors import BadRequest

_PORTS = {"http": 80, "https": 443}


class UnsafeWebhook(BadRequest):
    title = "Webhook URL refused"


@dataclass(frozen=True, slots=True)
class Target:
    url: str  # as the subscriber gave it
    scheme: str
    host: str  # the name, for Host and TLS
    address: str  # the checked address the connection goes to
    port: int

    @property
    def connect_url(self) -> str:
        """The URL with the checked address in place of the name (IPv6 in brackets)."""
        parts = urlsplit(self.url)
        literal = f"[{self.address}]" if ":" in self.address else self.address
        query = f"?{parts.query}" if parts.query else ""
        return f"{self.scheme}://{literal}:{self.port}{parts.path or '/'}{query}"

    @property
    def host_header(self) -> str:
        default = _PORTS[self.scheme] == self.port
        name = f"[{self.host}]" if ":" in self.host else self.host
        return name if default else f"{name}:{self.port}"


def resolve(url: str, allowed_hosts: Collection[str]) -> Target:
    """The address ``url`` is sent to, or UnsafeWebhook saying why it may not be."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeWebhook(f"not a URL: {exc}") from None
    host = (parts.hostname or "").lower()
    if parts.scheme not in _PORTS or not host:
        raise UnsafeWebhook("a webhook URL is https://host/path")
    if parts.username is not None or parts.password is not None or "\\" in url:
        raise UnsafeWebhook("a webhook URL carries no user name or password (send secrets in the signature)")
    allowed = host in allowed_hosts
    if parts.scheme == "http" and not allowed:
        raise UnsafeWebhook("webhooks are sent over https only")
    port = port or _PORTS[parts.scheme]
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise UnsafeWebhook(f"the host {host} does not resolve: {exc}") from None
    address = str(infos[0][4][0]).split("%", 1)[0]
    if not (allowed or address in allowed_hosts or _public(address)):
        raise UnsafeWebhook(f"{host} resolves to {address}, a loopback, private, link-local or reserved address")
    return Target(url=url, scheme=parts.scheme, host=host, address=address, port=port)


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast
