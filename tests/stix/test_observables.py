"""Observable extraction: raw pattern or SCO in, normalised rows out."""

from __future__ import annotations

import pytest

from exchange.stix.observables import Extracted, extract, ip_observable


def _range(address: str) -> tuple[str, str]:
    obs = ip_observable(address)
    assert obs is not None
    assert obs.ip_lo is not None
    assert obs.ip_hi is not None
    return obs.ip_lo, obs.ip_hi


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
    lo = _range("10.0.0.0/8")
    inside = _range("10.20.30.40")
    outside = _range("11.0.0.0")
    v6 = _range("::ffff:10.1.1.1")  # the mapped form of an IPv4 address shares its range
    assert lo[0] <= inside[0] <= inside[1] <= lo[1] < outside[0]
    assert lo[0] <= v6[0] <= lo[1]
    assert ip_observable("01.2.3.4") is None
    assert ip_observable("example.com") is None
