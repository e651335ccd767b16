"""Seeded indicator generator for benchmarks, in the shape of shared/tools/gen_stix.py.

Lazy, so a 1,000,000-object benchmark never holds its input in memory.
"""

from __future__ import annotations

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


def indicators(n: int, seed: int = 1) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)  # noqa: S311 - reproducible benchmark data, not secrets
    base = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    for i in range(n):
        pattern, name = _pattern(rng)
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
