"""``evaluate.matches``: observed objects against a pattern, time aside."""

from __future__ import annotations

from typing import Any

import pytest

from exchange.stix.patterns.evaluate import matches
from exchange.stix.patterns.validate import checked

DOMAIN = {"type": "domain-name", "value": "mail.evil.example"}
IP = {"type": "ipv4-addr", "value": "198.51.100.7"}
FILE = {"type": "file", "name": "a.exe", "size": 2048, "hashes": {"SHA-256": "ab" * 32},
        "magic_number_hex": "4D5A", "x_tags": ["dropper", "loader"]}
TRAFFIC = {"type": "network-traffic", "dst_port": 443, "dst_ref": IP, "protocols": ["ipv4", "tcp"]}


@pytest.mark.parametrize(("pattern", "observed", "expected"), [
    ("[domain-name:value = 'mail.evil.example']", [DOMAIN], True),
    ("[domain-name:value = 'MAIL.evil.example']", [DOMAIN], False),  # = is exact; rows are normalised, not this
    ("[domain-name:value LIKE '%.evil.example']", [DOMAIN], True),
    ("[domain-name:value LIKE 'mail_evil%']", [DOMAIN], True),
    ("[domain-name:value LIKE '%.example.org']", [DOMAIN], False),
    ("[domain-name:value MATCHES 'evil\\\\.example$']", [DOMAIN], True),
    ("[domain-name:value MATCHES '^evil']", [DOMAIN], False),
    ("[domain-name:value MATCHES '(?<=mail\\\\.)evil']", [DOMAIN], True),  # look-behind, as in PCRE
    ("[domain-name:value MATCHES '(unclosed']", [DOMAIN], False),  # not a regular expression: no match
    ("[ipv4-addr:value ISSUBSET '198.51.100.0/24']", [IP], True),
    ("[ipv4-addr:value ISSUBSET '203.0.113.0/24']", [IP], False),
    ("[ipv4-addr:value ISSUPERSET '198.51.100.7/32']", [IP], True),
    ("[ipv4-addr:value IN ('192.0.2.1', '198.51.100.7')]", [IP], True),
    ("[ipv4-addr:value NOT = '192.0.2.1']", [IP], True),
    ("[ipv4-addr:x_missing NOT = '192.0.2.1']", [IP], False),  # a missing property is false, NOT or not
    ("[file:hashes.'SHA-256' = '" + "ab" * 32 + "' AND file:name = 'a.exe']", [FILE], True),
    ("[file:hashes.'SHA-256' = '" + "ab" * 32 + "' AND file:name = 'b.exe']", [FILE], False),
    ("[file:size > 1024 AND file:size <= 2048]", [FILE], True),
    ("[file:size > 'x']", [FILE], False),  # no order between a number and a string
    ("[file:magic_number_hex = h'4d5a']", [FILE], True),
    ("[file:x_tags[*] = 'loader']", [FILE], True),
    ("[file:x_tags[0] = 'loader']", [FILE], False),
    ("[EXISTS file:hashes.'SHA-256']", [FILE], True),
    ("[EXISTS file:hashes.MD5]", [FILE], False),
    ("[network-traffic:dst_ref.value = '198.51.100.7' AND network-traffic:dst_port = 443]", [TRAFFIC], True),
    ("[network-traffic:protocols[*] = 'udp']", [TRAFFIC], False),
    ("[domain-name:value = 'mail.evil.example'] AND [ipv4-addr:value = '198.51.100.7']", [DOMAIN, IP], True),
    ("[domain-name:value = 'mail.evil.example'] AND [ipv4-addr:value = '198.51.100.7']", [DOMAIN], False),
    ("[domain-name:value = 'nope.example'] OR [ipv4-addr:value = '198.51.100.7']", [IP], True),
    ("([domain-name:value = 'mail.evil.example'] FOLLOWEDBY [ipv4-addr:value = '198.51.100.7']) WITHIN 5 SECONDS",
     [IP, DOMAIN], True),  # time aside: FOLLOWEDBY reads as AND, qualifiers are not checked
    ("[domain-name:value = 'mail.evil.example']", [IP, "not an object"], False),
])
def test_matches(pattern: str, observed: list[Any], expected: bool) -> None:
    assert matches(checked(pattern), observed) is expected


def test_a_catastrophic_expression_does_not_hang_the_caller() -> None:
    """Nested quantifiers against a long non-matching value: the regex module's timeout answers
    "no match" instead of backtracking for hours (the value is long enough that it would)."""
    pattern = checked("[url:value MATCHES '^(([a-z])+.)+[A-Z]([a-z])+$']")
    assert matches(pattern, [{"type": "url", "value": "a" * 5000 + "!"}]) is False
