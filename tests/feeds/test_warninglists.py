"""Warninglists: values on well-known benign lists are named, others are not, and lists that say what
a value is rather than that it is harmless are left out (the package's own data, offline)."""

from __future__ import annotations

import pytest

from exchange.feeds.warninglists import is_benign


@pytest.mark.parametrize(("kind", "value", "list_name"), [
    ("ipv4", "8.8.8.8", "List of known IPv4 public DNS resolvers"),
    ("ipv4", "10.20.30.40", "List of RFC 1918 CIDR blocks"),
    ("ipv6", "fe80::1:2", "List of IPv6 link local blocks"),
    ("url", "http://10.0.0.1/login", "List of RFC 1918 CIDR blocks"),
])
def test_benign_values_name_their_list(kind: str, value: str, list_name: str) -> None:
    assert is_benign(kind, value) == list_name


@pytest.mark.parametrize("value", ["google.com", "www.google.com", "mail.google.com"])
def test_popular_sites_are_flagged_themselves(value: str) -> None:
    assert is_benign("domain", value) is not None


@pytest.mark.parametrize(("kind", "value"), [
    ("ipv4", "203.0.114.7"),
    ("domain", "evil-example-xyz.biz"),
    ("domain", "anything.duckdns.org"),  # a top site's subdomain, and on the dynamic DNS and LOTS lists
    ("url", "https://phish.evil-example-xyz.biz/a"),
    ("sha256", "a" * 64),
    ("ipv4", "not an address"),
])
def test_other_values_are_not_flagged(kind: str, value: str) -> None:
    assert is_benign(kind, value) is None
