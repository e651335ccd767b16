"""STIX patterns for the corpus: the simple shapes the fast path targets, compound ones, other
pattern languages, and malformed patterns for the mutations."""

from __future__ import annotations

from tests.stix.corpus.gen import Gen


def simple_pattern(g: Gen) -> tuple[str, str]:
    """(kind, pattern) of one of the simple shapes the fast path targets."""
    kind = g.rng.choice(("domain-name", "ipv4-addr", "ipv6-addr", "url", "email-addr", "MD5", "SHA-1", "SHA-256"))
    if kind == "domain-name":
        return kind, f"[domain-name:value = '{g.domain()}']"
    if kind == "ipv4-addr":
        return kind, f"[ipv4-addr:value = '{g.ipv4()}']"
    if kind == "ipv6-addr":
        return kind, f"[ipv6-addr:value = '{g.ipv6()}']"
    if kind == "url":
        return kind, f"[url:value = '{g.url()}']"
    if kind == "email-addr":
        return kind, f"[email-addr:value = '{g.email()}']"
    chars = {"MD5": 32, "SHA-1": 40, "SHA-256": 64}[kind]
    path = g.rng.choice(("MD5", "'MD5'")) if kind == "MD5" else f"'{kind}'"
    return kind, f"[file:hashes.{path} = '{g.hexdigest(chars)}']"


COMPOUND = (
    "[domain-name:value = '{d}'] OR [ipv4-addr:value = '{ip}']",
    "[file:hashes.'SHA-256' = '{h}' AND file:name = 'invoice.exe']",
    "[ipv4-addr:value = '{ip}'] FOLLOWEDBY [domain-name:value = '{d}'] WITHIN 600 SECONDS",
    "[url:value = '{u}'] REPEATS 3 TIMES",
    "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_port = 443]",
    "([domain-name:value = '{d}'] AND [url:value = '{u}']) START t'2024-01-01T00:00:00Z' STOP t'2024-02-01T00:00:00Z'",
    "[ipv4-addr:value ISSUBSET '198.51.100.0/24']",
    "[file:name LIKE 'invoice%.exe' OR file:size > 1048576]",
    "[email-message:from_ref.value MATCHES '^.+@{d}$']",
    "[domain-name:value IN ('{d}', 'x-{d}')] AND [ipv6-addr:value = '{ip6}']",
)
OTHER_PATTERNS = (
    ("snort", 'alert tcp any any -> $HOME_NET 445 (msg:"SMB probe"; sid:1000001;)'),
    ("yara", 'rule demo { strings: $a = "evil" condition: $a }'),
    ("sigma", "title: demo\ndetection:\n  sel:\n    Image|endswith: '\\\\evil.exe'\n  condition: sel"),
)
BAD_PATTERNS = (
    "domain-name:value = 'evil.example'",
    "[domain-name:value = 'evil.example'",
    "[domain-name:value =~ 'evil.example']",
    "[domain-name:value = evil.example]",
    "[domain-name value = 'evil.example']",
    "[]",
    "[ipv4-addr:value = '10.0.0.1'] AND",
    "[ipv4-addr:value = '10.0.0.1'] WITHIN five SECONDS",
    "[file:hashes.'SHA-256' = 'abc' AND]",
    "[url:value = 'http://x'] FOLLOWEDBY",
    "[domain-name:value = 'a' OR ]",
)
