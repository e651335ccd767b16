"""Normalisation: what each kind of asset becomes, and every refusal with its reason."""

from __future__ import annotations

import socket

import pytest

from exchange.assets import normalise as n
from exchange.assets.models import AssetKind as K
from exchange.core.errors import BadRequest
from exchange.stix.observables import ip_observable, normalise_domain

STRICT = n.Limits()
TESTING = n.Limits(allow_reserved=True)


@pytest.mark.parametrize(("kind", "raw", "value"), [
    (K.domain, "Bücher.DE.", "xn--bcher-kva.de"),
    (K.domain, " SHOP.Example.co.uk ", "shop.example.co.uk"),
    (K.domain, "foo.github.io", "foo.github.io"),  # a private suffix's customer is registrable
    (K.mail_domain, "Mail.Bäckerei.at", "mail.xn--bckerei-5wa.at"),
    (K.cidr, "8.8.4.0/24", "8.8.4.0/24"),
    (K.cidr, "8.8.4.7/24", "8.8.4.0/24"),  # host bits dropped
    (K.cidr, "8.8.4.4/32", "8.8.4.4"),  # one address is an address
    (K.cidr, "2a00:1450:4001::/48", "2a00:1450:4001::/48"),
    (K.ipv6, "2A00:1450:4001:0::1", "2a00:1450:4001::1"),
    (K.asn, "as13335", "13335"),
    (K.url, "HTTPS://Shop.Bücher.de:8443/Login?x=1#frag", "https://shop.xn--bcher-kva.de:8443/Login?x=1"),
])
def test_normalised_values(kind, raw, value) -> None:  # type: ignore[no-untyped-def]
    assert n.normalise(kind, raw, STRICT).value == value


@pytest.mark.parametrize(("kind", "raw", "reason"), [
    (K.domain, "co.uk", "is a public suffix"),
    (K.domain, "github.io", "is a public suffix"),
    (K.domain, "com", "not a domain name under a public suffix"),
    (K.domain, "shop.nosuchtld", "does not end in a known public suffix"),
    (K.domain, "shop.test", "reserved name"),
    (K.domain, "example.com", "reserved name"),
    (K.domain, "a..b.de", "not a valid domain name"),
    (K.domain, "-bad-.de", "not a valid domain name"),
    (K.cidr, "10.1.0.0/16", "private, reserved or documentation"),
    (K.cidr, "198.51.0.0/16", "private, reserved or documentation"),  # contains a documentation /24
    (K.ipv4, "192.0.2.1", "private, reserved or documentation"),
    (K.cidr, "2001:db8::/48", "private, reserved or documentation"),
    (K.cidr, "8.8.0.0/15", "wider than /16"),
    (K.cidr, "2a00::/31", "wider than /32"),
    (K.cidr, "not an address", "is not an IP address"),
    (K.ipv4, "8.8.8.0/24", "use --cidr"),
    (K.ipv4, "2a00:1450::1", "use --cidr"),
    (K.asn, "AS64500", "reserved for documentation or private use"),
    (K.asn, "4294967296", "is not an AS number"),
    (K.asn, "ASX", "is not an AS number"),
    (K.url, "ftp://files.bücher.de/", "not an http or https URL"),
    (K.url, "https://10.0.0.1/admin", "private, reserved"),
    (K.url, "http://[::1", "not a valid URL"),
    (K.software, "apache", "neither a CPE 2.3 name"),
    (K.software, "cpe:2.3:x:apache:http_server", "CPE part 'x' is not"),
    (K.software, "cpe:2.3:a:*:http_server", "must name its vendor and product"),
    (K.software, "cpe:2.3:a", "not a CPE 2.3 formatted string"),
    (K.software, "cpe:2.3:a:b:c:d:e:f:g:h:i:j:k:l:m", "13 fields at most"),
    (K.url, "https://shop.bücher.de\\@evil.de/", "no backslashes"),
    (K.url, "https://user:pw@shop.bücher.de/", "user name or password"),
    (K.software, "pkg:pypi", "not a valid package URL"),
    (K.domain, "", "1 to 1024 characters"),
])
def test_refusals_say_why(kind, raw, reason) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(BadRequest, match=reason):
        n.normalise(kind, raw, STRICT)


def test_documentation_names_and_ranges_only_when_the_setting_allows() -> None:
    assert n.normalise(K.domain, "Shop.TEST", TESTING).value == "shop.test"
    assert n.normalise(K.cidr, "198.51.100.0/24", TESTING).value == "198.51.100.0/24"
    assert n.normalise(K.asn, "AS64500", TESTING).value == "64500"
    with pytest.raises(BadRequest, match="wider than"):  # the width limit holds even then
        n.normalise(K.cidr, "10.0.0.0/8", TESTING)


def test_ranges_match_the_observable_tables_encoding() -> None:
    """An observable address lies inside an asset range exactly when its integers do: same encoding."""
    asset = n.normalise(K.cidr, "8.8.4.0/24", STRICT)
    inside, edge, outside = ip_observable("8.8.4.0"), ip_observable("8.8.4.255"), ip_observable("8.8.5.0")
    assert inside is not None
    assert edge is not None
    assert outside is not None
    assert asset.ip_lo == inside.ip_lo
    assert asset.ip_hi == edge.ip_hi
    assert not asset.ip_lo <= outside.ip_lo <= asset.ip_hi  # type: ignore[operator]
    v6 = n.normalise(K.cidr, "2a00:1450:4001::/48", STRICT)
    assert v6.ip_lo == ip_observable("2a00:1450:4001::/48").ip_lo  # type: ignore[union-attr]
    assert n.normalise(K.domain, "Bücher.de", STRICT).value == normalise_domain("Bücher.de")


def test_software_is_split_into_the_parts_matching_compares() -> None:
    cpe = n.normalise(K.software, "cpe:2.3:a:Apache:HTTP_Server:2.4.58", STRICT)
    assert cpe.value == "cpe:2.3:a:apache:http_server:2.4.58:*:*:*:*:*:*:*"
    assert (cpe.sw_vendor, cpe.sw_product, cpe.sw_version, cpe.sw_purl_type) == ("apache", "http_server", "2.4.58",
                                                                                 None)
    escaped = n.normalise(K.software, r"cpe:2.3:a:acme:shop\:pro:-", STRICT)
    assert (escaped.sw_product, escaped.sw_version) == (r"shop\:pro", None)
    purl = n.normalise(K.software, "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1", STRICT)
    assert (purl.sw_vendor, purl.sw_product, purl.sw_version, purl.sw_purl_type) == (
        "org.apache.logging.log4j", "log4j-core", "2.14.1", "maven")
    assert n.normalise(K.software, "pkg:PyPI/Django", STRICT).value == "pkg:pypi/django"


def test_public_suffixes_come_from_the_bundled_snapshot_without_network(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    opened: list[object] = []

    def no_network(*args: object, **kwargs: object) -> None:
        opened.append(args)
        raise AssertionError("a socket was opened")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    n._suffixes.cache_clear()  # build the extractor anew, as a fresh process would
    assert n.normalise(K.domain, "shop.example.co.uk", STRICT).value == "shop.example.co.uk"
    with pytest.raises(BadRequest, match="public suffix"):
        n.normalise(K.domain, "blogspot.com", STRICT)
    assert opened == []
