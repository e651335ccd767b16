"""Observable extraction: raw pattern or SCO in, normalised rows out."""

from __future__ import annotations

import pytest

from exchange.stix.observables import Extracted, extract, ip_observable


def _pattern(p: str) -> set[tuple[str, str]]:
    return {(e.kind, e.value) for e in extract({"type": "indicator", "pattern_type": "stix", "pattern": p})}


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("[domain-name:value = 'Evil.Example.']", {("domain", "evil.example")}),
        ("[domain-name:value = 'bücher.example']", {("domain", "xn--bcher-kva.example")}),
        ("[url:value = 'HTTPS://Shop.Example:8443/Pay?x=1']",
         {("url", "https://shop.example:8443/Pay?x=1"), ("domain", "shop.example")}),
        ("[url:value = 'http://192.0.2.5/x']", {("url", "http://192.0.2.5/x"), ("ipv4", "192.0.2.5")}),
        ("[email-addr:value = 'CEO@Bakery-Example.test']",
         {("email", "ceo@bakery-example.test"), ("email-domain", "bakery-example.test")}),
        ("[file:hashes.'SHA-256' = 'AB" + "0" * 62 + "']", {("sha256", "ab" + "0" * 62)}),
        ("[file:hashes.MD5 = '" + "F" * 32 + "']", {("md5", "f" * 32)}),
        ("[ipv6-addr:value = '2001:DB8::1']", {("ipv6", "2001:db8::1")}),
        ("[ipv4-addr:value ISSUBSET '198.51.100.0/24']", {("ipv4", "198.51.100.0/24")}),
        ("[domain-name:value IN ('a.example', 'b.example')]", {("domain", "a.example"), ("domain", "b.example")}),
        ("[domain-name:value = 'it\\'s.example'] AND [file:name = 'x.exe']", {("domain", "it's.example")}),
        ("[software:cpe = 'cpe:2.3:a:Vendor:Product:1.0:*:*:*:*:*:*:*']",
         {("cpe", "cpe:2.3:a:vendor:product:1.0:*:*:*:*:*:*:*")}),
        ("[domain-name:value != 'not-this.example']", set()),  # only positive comparisons are observables
    ],
)
def test_patterns(pattern: str, expected: set[tuple[str, str]]) -> None:
    assert _pattern(pattern) == expected


def test_scos_and_vulnerabilities() -> None:
    assert {(e.kind, e.value) for e in extract({"type": "file", "hashes": {"SHA-1": "AA" * 20, "x-unknown": "1"}})} \
        == {("sha1", "aa" * 20)}
    vuln = {"type": "vulnerability", "name": "cve-2024-3400",
            "external_references": [{"source_name": "cve", "external_id": "CVE-2024-3400"},
                                    {"source_name": "cve", "external_id": "not a cve"}]}
    assert [(e.kind, e.value) for e in extract(vuln)] == [("cve", "CVE-2024-3400")]
    assert extract({"type": "email-addr", "value": "x" * 2000 + "@long.example"}) == [
        Extracted("email-domain", "long.example")]  # over-long values are not indexed


def test_ip_ranges_are_ordered_like_integers() -> None:
    lo = ip_observable("10.0.0.0/8")
    inside = ip_observable("10.20.30.40")
    outside = ip_observable("11.0.0.0")
    v6 = ip_observable("::ffff:10.1.1.1")  # the mapped form of an IPv4 address shares its range
    assert lo
    assert inside
    assert outside
    assert v6
    assert lo.ip_lo <= inside.ip_lo <= inside.ip_hi <= lo.ip_hi < outside.ip_lo
    assert lo.ip_lo <= v6.ip_lo <= lo.ip_hi
    assert ip_observable("01.2.3.4") is None
    assert ip_observable("example.com") is None
