"""What every part of the corpus shares: the verdicts, the case type, the vocabulary and ``Gen``.

Everything random goes through the one ``random.Random`` in ``Gen``, in the order the builders
and mutations call it, so the corpus stays the same on every call and every machine.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from dataclasses import dataclass
from typing import Any

from exchange.stix.tlp import TLP1_DEFINITIONS

VALID, INVALID, REJECT = "valid", "invalid", "reject"
SEED = 20240601
N_SIMPLE_INDICATORS = 1500  # gen_stix.py shape, the bulk of real feeds
N_EACH = 110  # of every other generator

Obj = dict[str, Any]


@dataclass(frozen=True)
class Case:
    label: str
    obj: Obj
    expect: str


_TLP1_OBJECTS: tuple[Obj, ...] = tuple(TLP1_DEFINITIONS.values())
TLP1 = {obj["definition"]["tlp"]: obj for obj in _TLP1_OBJECTS}
TLP2_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP2: dict[str, Obj] = {
    level: {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": f"marking-definition--{mid}",
        "created": "2022-10-01T00:00:00.000Z",
        "name": f"TLP:{level.upper()}",
        "extensions": {TLP2_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": level}},
    }
    for level, mid in (
        ("clear", "94868c89-83c2-464b-929b-a1a8aa3c8487"),
        ("green", "bab4a63c-aed9-4cf5-a766-dfca5abac2bb"),
        ("amber", "55d920b0-5e8b-4f79-9ee9-91f868d9b421"),
        ("amber+strict", "939a9414-2ddd-4d32-a0cd-375ea402b003"),
        ("red", "e828b379-4e03-4974-9ac4-e53a884c97c1"),
    )
}
MARKING_IDS = [m["id"] for m in (*TLP1.values(), *TLP2.values())]
WORDS = ("alpha", "bravo", "cobalt", "delta", "ember", "falcon", "garnet", "harbor", "iris", "jade",
         "kilo", "lumen", "mango", "nova", "onyx", "pixel", "quartz", "raven", "sierra", "tango")  # fmt: skip
TLDS = ("com", "net", "org", "info", "io", "ru", "xyz", "top")
INDICATOR_TYPES = ("malicious-activity", "anomalous-activity", "attribution", "compromised", "unknown")
KILL_CHAIN = [{"kill_chain_name": "lockheed-martin-cyber-kill-chain", "phase_name": p}
              for p in ("reconnaissance", "delivery", "exploitation", "command-and-control")]  # fmt: skip
LANGS = ("en", "de", "fr-CA", "zh-Hant-TW", "es-419", "ja")
BASE = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


class Gen:
    """Shared randomness and the pools of ids later objects refer to."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.identities: list[str] = [self.id4("identity") for _ in range(8)]
        self.statements: list[Obj] = []
        self.sdo_ids: list[str] = []

    def id4(self, otype: str) -> str:
        return f"{otype}--{uuid.UUID(int=self.rng.getrandbits(128), version=4)}"

    def id5(self, otype: str) -> str:
        return f"{otype}--{uuid.UUID(int=self.rng.getrandbits(128), version=5)}"

    def ts(self, index: int, digits: int = 3) -> str:
        t = BASE + dt.timedelta(milliseconds=1700 * index + self.rng.randrange(1000))
        frac = f"{t.microsecond:06d}"[:digits]
        return t.strftime("%Y-%m-%dT%H:%M:%S") + (f".{frac}" if digits else "") + "Z"

    def word(self) -> str:
        return self.rng.choice(WORDS)

    def domain(self) -> str:
        return f"{self.word()}-{self.word()}{self.rng.randrange(10000)}.{self.rng.choice(TLDS)}"

    def ipv4(self) -> str:
        r = self.rng.randrange
        return f"{r(1, 224)}.{r(256)}.{r(256)}.{r(1, 255)}"

    def ipv6(self) -> str:
        return "2001:db8:" + ":".join(f"{self.rng.randrange(65536):x}" for _ in range(6))

    def url(self) -> str:
        return f"http://{self.domain()}/{self.word()}/{self.word()}.php?id={self.rng.randrange(10**6)}"

    def email(self) -> str:
        return f"{self.word()}.{self.word()}@{self.domain()}"

    def hexdigest(self, chars: int) -> str:
        return f"{self.rng.getrandbits(chars * 4):0{chars}x}"

    def common(self, otype: str, index: int, sco: bool = False) -> Obj:
        if sco:
            return {"type": otype, "spec_version": "2.1", "id": self.id5(otype)}
        created = self.ts(index, self.rng.choice((3, 3, 3, 6)))
        modified = created if self.rng.random() < 0.7 else self.ts(index + 50_000)
        obj: Obj = {"type": otype, "spec_version": "2.1", "id": self.id4(otype), "created": created,
                    "modified": modified}  # fmt: skip
        self.optional(obj)
        return obj

    def optional(self, obj: Obj) -> None:
        """Optional common properties, each with some probability."""
        r = self.rng.random
        if r() < 0.4:
            obj["created_by_ref"] = self.rng.choice(self.identities)
        if r() < 0.6:
            obj["object_marking_refs"] = [self.rng.choice(MARKING_IDS)]
        if r() < 0.2 and self.statements:
            obj.setdefault("object_marking_refs", []).append(self.rng.choice(self.statements)["id"])
        if r() < 0.3:
            obj["confidence"] = self.rng.choice((0, 15, 50, 85, 100))
        if r() < 0.2:
            obj["lang"] = self.rng.choice(LANGS)
        if r() < 0.3:
            obj["labels"] = [self.word() for _ in range(self.rng.randrange(1, 4))]
        if r() < 0.1:
            obj["revoked"] = False
        if r() < 0.3:
            obj["x_opencti_score"] = self.rng.randrange(101)
        if r() < 0.1:
            obj["x_acme_tags"] = [self.word(), self.word()]
