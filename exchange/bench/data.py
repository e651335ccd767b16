"""Seeded indicator generator for benchmarks, in the shape of shared/tools/gen_stix.py.

Lazy, so a 1,000,000-object benchmark never holds its input in memory.
"""

from __future__ import annotations

import base64
import datetime as dt
import random
import uuid
from collections.abc import Iterator
from typing import Any

TLP_GREEN = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"
_WORDS = ("alpha", "bravo", "cobalt", "delta", "ember", "falcon", "garnet", "harbor", "iris", "jade", "kilo",
          "lumen", "mango", "nova", "onyx", "pixel", "quartz", "raven", "sierra", "tango", "umbra", "vortex")
_TLDS = ("com", "net", "org", "info", "biz", "io", "ru", "cn", "xyz", "top")
_TYPES = ("malicious-activity", "anomalous-activity", "attribution", "compromised", "benign", "unknown")


def _ts(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def _domain(rng: random.Random) -> str:
    return f"{rng.choice(_WORDS)}-{rng.choice(_WORDS)}{rng.randrange(10000)}.{rng.choice(_TLDS)}"


def _pattern(rng: random.Random) -> tuple[str, str]:
    kind = rng.randrange(4)
    if kind == 0:
        value = _domain(rng)
        return f"[domain-name:value = '{value}']", f"Malicious domain {value}"
    if kind == 1:
        value = f"{rng.randrange(1, 224)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        return f"[ipv4-addr:value = '{value}']", f"Suspicious IPv4 {value}"
    if kind == 2:
        value = f"http://{_domain(rng)}/{rng.choice(_WORDS)}/{rng.choice(_WORDS)}.php?id={rng.randrange(10**6)}"
        return f"[url:value = '{value}']", f"Malicious URL {value}"
    value = f"{rng.getrandbits(256):064x}"
    return f"[file:hashes.'SHA-256' = '{value}']", "Malicious file"


def _ipv4(rng: random.Random) -> str:
    return f"{rng.randrange(1, 224)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"


def _single(rng: random.Random) -> tuple[str, str]:
    """Single comparisons: half the plain ones above, half what feeds also write (a CIDR, an MD5,
    LIKE, MATCHES)."""
    kind = rng.randrange(8)
    if kind < 4:
        return _pattern(rng)
    if kind == 4:
        value = f"{rng.randrange(1, 224)}.{rng.randrange(256)}.{rng.randrange(256)}.0/24"
        return f"[ipv4-addr:value ISSUBSET '{value}']", f"Suspicious range {value}"
    if kind == 5:
        return f"[file:hashes.MD5 = '{rng.getrandbits(128):032x}']", "Malicious file (MD5)"
    if kind == 6:
        value = _domain(rng)
        return f"[domain-name:value LIKE '%.{value}']", f"Subdomains of {value}"
    value = _domain(rng).replace(".", "\\\\.")
    return f"[url:value MATCHES '^https?://{value}/']", "Malicious site"


def _and(rng: random.Random) -> tuple[str, str]:
    """MISP's composite attributes: file name and hash, network traffic, e-mail."""
    kind = rng.randrange(3)
    if kind == 0:
        name = f"{rng.choice(_WORDS)}_{rng.randrange(1000)}.exe"
        return (f"[file:name = '{name}' AND file:hashes.'SHA-256' = '{rng.getrandbits(256):064x}']",
                f"Malicious file {name}")
    if kind == 1:
        ip = _ipv4(rng)
        return (f"[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '{ip}' AND "
                f"network-traffic:dst_port = {rng.choice((80, 443, 8080, 4444))}]", f"C2 traffic to {ip}")
    sender = f"{rng.choice(_WORDS)}@{_domain(rng)}"
    subject = f"Invoice {rng.randrange(10**5)} for {rng.choice(_WORDS)}'s order"
    escaped = subject.replace("'", "\\'")
    return (f"[email-message:from_ref.value = '{sender}' AND email-message:subject = '{escaped}']",
            f"Phishing from {sender}")


def _or(rng: random.Random) -> tuple[str, str]:
    """OR lists of 2-10 domains and addresses, as OpenCTI and CSIRT feeds write them."""
    terms = [f"[domain-name:value = '{_domain(rng)}']" if rng.random() < 0.5
             else f"[ipv4-addr:value = '{_ipv4(rng)}']" for _ in range(rng.randint(2, 10))]
    return " OR ".join(terms), f"Infrastructure ({len(terms)} values)"


def _qualified(rng: random.Random) -> tuple[str, str]:
    """Qualifiers, FOLLOWEDBY and the h'…' and b'…' literals."""
    kind = rng.randrange(4)
    ip = _ipv4(rng)
    if kind == 0:
        return (f"[ipv4-addr:value = '{ip}'] REPEATS {rng.randint(2, 9)} TIMES WITHIN 600 SECONDS",
                f"Repeated contact with {ip}")
    if kind == 1:
        return (f"[domain-name:value = '{_domain(rng)}'] FOLLOWEDBY [url:value = 'http://{ip}/{rng.choice(_WORDS)}']"
                " WITHIN 300 SECONDS", "Lookup then download")
    if kind == 2:
        return (f"[ipv4-addr:value = '{ip}'] START t'2024-01-01T00:00:00Z' STOP t'2024-12-31T23:59:59.999Z'",
                f"Active address {ip} in 2024")
    payload = f"{rng.getrandbits(96):024x}"
    return (f"[file:magic_number_hex = h'{payload[:8]}' AND file:hashes.MD5 = '{rng.getrandbits(128):032x}'] OR "
            f"[artifact:payload_bin = b'{base64.b64encode(bytes.fromhex(payload)).decode()}']", "Dropper")


# The realistic mix (issue 16): 60 % single comparisons, 25 % AND composites, 10 % OR lists, 5 % qualified.
SHAPES = {"single": _single, "and": _and, "or": _or, "qualified": _qualified, "simple": _pattern}
_MIX = (("single", 0.60), ("and", 0.85), ("or", 0.95), ("qualified", 1.0))


def _mixed(rng: random.Random) -> tuple[str, str]:
    draw = rng.random()
    return SHAPES[next(shape for shape, upto in _MIX if draw < upto)](rng)


def indicators(n: int, seed: int = 1, shape: str = "mixed") -> Iterator[dict[str, Any]]:
    """``shape``: ``mixed`` (the realistic mix), one of ``SHAPES``, or ``simple`` for the
    single-comparison, plain ``=`` patterns the benchmarks used before issue 16."""
    rng = random.Random(seed)  # noqa: S311 - reproducible benchmark data, not secrets
    make = _mixed if shape == "mixed" else SHAPES[shape]
    base = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    for i in range(n):
        pattern, name = make(rng)
        created = _ts(base + dt.timedelta(milliseconds=1700 * i))
        itype = rng.choice(_TYPES)
        yield {
            "type": "indicator",
            "spec_version": "2.1",
            "id": f"indicator--{uuid.UUID(int=rng.getrandbits(128), version=4)}",
            "created": created,
            "modified": created,
            "name": name,
            "description": f"Synthetic indicator #{i} generated for benchmarks.",
            "indicator_types": [itype],
            "labels": [itype],
            "pattern": pattern,
            "pattern_type": "stix",
            "pattern_version": "2.1",
            "valid_from": created,
            "object_marking_refs": [TLP_GREEN],
        }
