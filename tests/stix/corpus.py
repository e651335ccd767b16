"""A deterministic corpus of STIX 2.1 objects for the validation differential tests.

``corpus()`` returns the same cases on every call and every machine (one seeded
``random.Random``): valid objects of every common type and, derived from them, single-fault
mutations. Each case says what the verdicts must be:

* ``VALID``   - stix2 accepts it and so must we;
* ``INVALID`` - stix2 rejects it, so we must reject it too;
* ``REJECT``  - we must reject it; stix2's verdict depends on details (spec_version "2.0" makes it
  parse the object as STIX 2.0, for example);
* a ``STRICT_RULES`` code - stix2 accepts it although the specification forbids it, and our
  rejection must carry exactly that rule code.

Many indicators have the shape of ``/work/shared/tools/gen_stix.py`` (the fast path's target), and
so do many mutations, so a fast path that accepts too much shows up here.
"""

from __future__ import annotations

import copy
import datetime as dt
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
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


TLP1 = {obj["definition"]["tlp"]: obj for obj in TLP1_DEFINITIONS.values()}
TLP2_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP2 = {
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


class _Gen:
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


def _pattern(g: _Gen) -> tuple[str, str]:
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


def simple_indicator(g: _Gen, i: int) -> Obj:
    """The gen_stix.py shape: one comparison, TLP:GREEN, name/description/labels/indicator_types."""
    kind, pattern = _pattern(g)
    created = g.ts(i)
    itype = g.rng.choice(INDICATOR_TYPES)
    obj: Obj = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": g.id4("indicator"),
        "created": created,
        "modified": created,
        "name": f"Malicious {kind} #{i}",
        "description": f"Synthetic {kind} indicator #{i}.",
        "indicator_types": [itype],
        "labels": [kind, itype],
        "pattern": pattern,
        "pattern_type": "stix",
        "pattern_version": "2.1",
        "valid_from": created,
        "object_marking_refs": [TLP1["green"]["id"]],
    }
    if g.rng.random() < 0.3:  # trimmed variants: what other producers leave out
        for key in g.rng.sample(["name", "description", "indicator_types", "labels", "pattern_version"], 2):
            del obj[key]
    if g.rng.random() < 0.25:
        obj["confidence"] = g.rng.randrange(101)
    if g.rng.random() < 0.15:
        obj["valid_until"] = g.ts(i + 100_000)
    if g.rng.random() < 0.15:
        obj["kill_chain_phases"] = [g.rng.choice(KILL_CHAIN)]
    if g.rng.random() < 0.15:
        obj["created_by_ref"] = g.rng.choice(g.identities)
    if g.rng.random() < 0.2:
        obj["x_opencti_score"] = g.rng.randrange(101)
    g.sdo_ids.append(obj["id"])
    return obj


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


def compound_indicator(g: _Gen, i: int) -> Obj:
    obj = g.common("indicator", i)
    if g.rng.random() < 0.8:
        template = g.rng.choice(COMPOUND)
        pattern = template.format(d=g.domain(), ip=g.ipv4(), ip6=g.ipv6(), u=g.url(), h=g.hexdigest(64))
        obj.update(pattern=pattern, pattern_type="stix")
    else:
        ptype, pattern = g.rng.choice(OTHER_PATTERNS)
        obj.update(pattern=pattern, pattern_type=ptype)
    obj.update(valid_from=obj["created"], indicator_types=[g.rng.choice(INDICATOR_TYPES)])
    if g.rng.random() < 0.3:
        obj["kill_chain_phases"] = g.rng.sample(KILL_CHAIN, 2)
    g.sdo_ids.append(obj["id"])
    return obj


def malware(g: _Gen, i: int) -> Obj:
    obj = g.common("malware", i)
    obj["is_family"] = g.rng.random() < 0.6
    if obj["is_family"] or g.rng.random() < 0.5:
        obj["name"] = f"{g.word().title()}{g.word().title()}"
    if g.rng.random() < 0.6:
        obj["malware_types"] = g.rng.sample(["ransomware", "trojan", "backdoor", "dropper", "worm"], 2)
    if g.rng.random() < 0.4:
        obj.update(first_seen=g.ts(i, 0), last_seen=g.ts(i + 70_000, 0))
    if g.rng.random() < 0.3:
        obj["aliases"] = [g.word(), g.word()]
    g.sdo_ids.append(obj["id"])
    return obj


def vulnerability(g: _Gen, i: int) -> Obj:
    obj = g.common("vulnerability", i)
    cve = f"CVE-{g.rng.randrange(2015, 2025)}-{g.rng.randrange(1000, 60000)}"
    obj["name"] = cve
    obj["external_references"] = [{"source_name": "cve", "external_id": cve}]
    if g.rng.random() < 0.5:
        obj["external_references"].append(
            {"source_name": "nvd", "url": f"https://nvd.nist.gov/vuln/detail/{cve}", "description": "NVD entry"}
        )
    if g.rng.random() < 0.5:
        obj["description"] = f"Remote code execution in {g.word()} {g.rng.randrange(1, 9)}.x"
    g.sdo_ids.append(obj["id"])
    return obj


def report(g: _Gen, i: int) -> Obj:
    obj = g.common("report", i)
    refs = g.rng.sample(g.sdo_ids, min(len(g.sdo_ids), g.rng.randrange(1, 6))) or [g.id4("indicator")]
    obj.update(name=f"Threat report {i}", published=obj["modified"], object_refs=refs)
    if g.rng.random() < 0.5:
        obj["report_types"] = ["threat-report"]
    return obj


def identity(g: _Gen, i: int) -> Obj:
    obj = g.common("identity", i)
    obj["id"] = g.identities[i % len(g.identities)] if i < len(g.identities) else obj["id"]
    obj["name"] = f"{g.word().title()} CSIRT"
    if g.rng.random() < 0.7:
        obj["identity_class"] = g.rng.choice(("organization", "individual", "system"))
    if g.rng.random() < 0.4:
        obj["sectors"] = g.rng.sample(["financial-services", "energy", "healthcare", "government"], 2)
    if g.rng.random() < 0.3:
        obj["contact_information"] = f"cert@{g.domain()}"
    return obj


def attack_pattern(g: _Gen, i: int) -> Obj:
    obj = g.common("attack-pattern", i)
    obj["name"] = f"{g.word().title()} phishing"
    capec = f"CAPEC-{g.rng.randrange(1, 700)}"
    obj["external_references"] = [{"source_name": "capec", "external_id": capec}]
    if g.rng.random() < 0.5:
        obj["kill_chain_phases"] = [g.rng.choice(KILL_CHAIN)]
    g.sdo_ids.append(obj["id"])
    return obj


def course_of_action(g: _Gen, i: int) -> Obj:
    obj = g.common("course-of-action", i)
    obj["name"] = f"Block {g.domain()}"
    if g.rng.random() < 0.6:
        obj["description"] = "Add the domain to the DNS sinkhole."
    g.sdo_ids.append(obj["id"])
    return obj


def note(g: _Gen, i: int) -> Obj:
    obj = g.common("note", i)
    obj.update(content="Seen in our sensors too.", object_refs=[g.rng.choice(g.sdo_ids)])
    if g.rng.random() < 0.5:
        obj.update(abstract="Confirmation", authors=[f"{g.word()}@example.org"])
    return obj


def sighting(g: _Gen, i: int) -> Obj:
    obj = g.common("sighting", i)
    obj["sighting_of_ref"] = g.rng.choice(g.sdo_ids)
    if g.rng.random() < 0.6:
        obj.update(first_seen=g.ts(i), last_seen=g.ts(i + 1000), count=g.rng.randrange(1, 500))
    if g.rng.random() < 0.5:
        obj["where_sighted_refs"] = [g.rng.choice(g.identities)]
    if g.rng.random() < 0.3:
        obj["summary"] = g.rng.random() < 0.5
    if g.rng.random() < 0.3:
        obj["x_false_positive"] = g.rng.randrange(5)
    return obj


def relationship(g: _Gen, i: int) -> Obj:
    obj = g.common("relationship", i)
    rtype = g.rng.choice(("indicates", "uses", "mitigates", "related-to", "derived-from", "targets"))
    obj.update(relationship_type=rtype, source_ref=g.rng.choice(g.sdo_ids), target_ref=g.rng.choice(g.sdo_ids))
    if g.rng.random() < 0.3:
        obj.update(start_time=g.ts(i), stop_time=g.ts(i + 5000))
    return obj


def marking(g: _Gen, i: int) -> Obj:
    choice = i % 4
    if choice == 0:
        return copy.deepcopy(g.rng.choice(list(TLP1.values())))
    if choice == 1:
        return copy.deepcopy(g.rng.choice(list(TLP2.values())))
    obj: Obj = {"type": "marking-definition", "spec_version": "2.1", "id": g.id4("marking-definition"),
                "created": g.ts(i), "definition_type": "statement",
                "definition": {"statement": f"Copyright {2000 + i % 25} {g.word().title()} CERT"}}  # fmt: skip
    if g.rng.random() < 0.5:
        obj["name"] = "Copyright statement"
    if g.rng.random() < 0.3:
        obj["created_by_ref"] = g.rng.choice(g.identities)
    g.statements.append(obj)
    return obj


SCO_TYPES = ("domain-name", "ipv4-addr", "ipv6-addr", "url", "email-addr", "file", "artifact", "mac-addr")


def sco(g: _Gen, i: int) -> Obj:
    otype = SCO_TYPES[i % 6] if i % 20 else SCO_TYPES[6 + i // 20 % 2]
    obj = g.common(otype, i, sco=True)
    if g.rng.random() < 0.1:
        del obj["spec_version"]  # optional on SCOs
    if otype == "domain-name":
        obj["value"] = g.domain()
    elif otype == "ipv4-addr":
        obj["value"] = g.ipv4() + g.rng.choice(("", "", "/32", "/24"))
    elif otype == "ipv6-addr":
        obj["value"] = g.ipv6() + g.rng.choice(("", "/64"))
    elif otype == "url":
        obj["value"] = g.url()
    elif otype == "email-addr":
        obj["value"] = g.email()
        if g.rng.random() < 0.3:
            obj["display_name"] = f"{g.word().title()} {g.word().title()}"
    elif otype == "artifact":
        obj.update(mime_type="text/plain", payload_bin=g.rng.choice(("aGVsbG8=", "ZXZpbA==", "cGF5bG9hZA==")))
    elif otype == "mac-addr":
        obj["value"] = ":".join(f"{g.rng.randrange(256):02x}" for _ in range(6))
    else:
        obj["hashes"] = {"SHA-256": g.hexdigest(64)}
        if g.rng.random() < 0.5:
            obj["hashes"]["MD5"] = g.hexdigest(32)
        if g.rng.random() < 0.6:
            obj.update(name=f"{g.word()}.exe", size=g.rng.randrange(1, 10**7))
        if g.rng.random() < 0.3:
            obj.update(mime_type="application/x-dosexec", magic_number_hex="4d5a")
    if g.rng.random() < 0.3:
        obj["object_marking_refs"] = [g.rng.choice(MARKING_IDS)]
    if g.rng.random() < 0.1:
        obj["defanged"] = False
    if g.rng.random() < 0.2:
        obj["x_opencti_score"] = g.rng.randrange(101)
    return obj


def other_sdo(g: _Gen, i: int) -> Obj:
    otype = ("threat-actor", "campaign", "tool", "intrusion-set", "location", "grouping", "infrastructure")[i % 7]
    obj = g.common(otype, i)
    if otype == "location":
        obj.update(country=g.rng.choice(("DE", "FR", "IT", "JP")), region="europe")
    elif otype == "grouping":
        obj.update(context="suspicious-activity", object_refs=[g.rng.choice(g.sdo_ids)])
    else:
        obj["name"] = f"{g.word().title()} {g.word().title()}"
    if otype == "threat-actor" and g.rng.random() < 0.5:
        obj.update(threat_actor_types=["crime-syndicate"], sophistication="advanced")
    g.sdo_ids.append(obj["id"])
    return obj


def custom_object(g: _Gen, i: int) -> Obj:
    """Custom objects as real feeds send them: SDO-like, SCO-like, and via a new-sdo extension."""
    if i % 3 == 0:
        obj = g.common("x-acme-campaign-note", i)
        obj.update(x_acme_text=f"note {i}", x_acme_severity_score=g.rng.randrange(10))
    elif i % 3 == 1:
        obj = {"type": "x-acme-sensor", "id": g.id5("x-acme-sensor"), "x_acme_hostname": g.domain()}
        if g.rng.random() < 0.5:
            obj["spec_version"] = "2.1"
    else:
        obj = g.common("x-mitre-tactic", i)
        obj.update(name=g.word(), x_mitre_shortname=g.word())
        obj["extensions"] = {g.id4("extension-definition"): {"extension_type": "new-sdo"}}
    return obj


GENERATORS: tuple[Callable[[_Gen, int], Obj], ...] = (
    compound_indicator, malware, vulnerability, attack_pattern, course_of_action, identity, marking,
    sco, sco, sco, other_sdo, custom_object, note, sighting, relationship, report,
)  # fmt: skip


def valid_objects(g: _Gen) -> list[Obj]:
    objects = [simple_indicator(g, i) for i in range(N_SIMPLE_INDICATORS)]
    for gen in GENERATORS:  # later generators refer to ids the earlier ones made
        objects.extend(gen(g, i) for i in range(N_EACH))
    return objects


# --- mutations ----------------------------------------------------------------------------------

STANDARD = frozenset({"indicator", "malware", "vulnerability", "report", "identity", "attack-pattern",
                      "course-of-action", "note", "sighting", "relationship", "marking-definition",
                      "threat-actor", "campaign", "tool", "intrusion-set", "location", "grouping",
                      "infrastructure", *SCO_TYPES})  # fmt: skip
REQUIRED = {
    "indicator": ("pattern", "pattern_type"), "malware": ("is_family",), "vulnerability": ("name",),
    "report": ("name", "published", "object_refs"), "identity": ("name",), "attack-pattern": ("name",),
    "course-of-action": ("name",), "note": ("content", "object_refs"), "sighting": ("sighting_of_ref",),
    "relationship": ("relationship_type", "source_ref", "target_ref"), "threat-actor": ("name",),
    "campaign": ("name",), "tool": ("name",), "intrusion-set": ("name",), "infrastructure": ("name",),
    "grouping": ("context", "object_refs"), "domain-name": ("value",), "ipv4-addr": ("value",),
    "ipv6-addr": ("value",), "url": ("value",), "email-addr": ("value",), "mac-addr": ("value",),
}  # fmt: skip
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
GREEN = TLP1["green"]["id"]
DESCRIBED = ("indicator", "malware", "vulnerability", "report", "identity", "attack-pattern", "course-of-action",
             "relationship", "sighting", "threat-actor", "campaign", "tool", "intrusion-set")  # fmt: skip


def _std(o: Obj) -> bool:
    return o["type"] in STANDARD


def _versioned(o: Obj) -> bool:
    return "created" in o and "modified" in o


def _is(*types: str) -> Callable[[Obj], bool]:
    return lambda o: o["type"] in types


def _has(*keys: str) -> Callable[[Obj], bool]:
    return lambda o: all(k in o for k in keys)


def _all(*preds: Callable[[Obj], bool]) -> Callable[[Obj], bool]:
    return lambda o: all(p(o) for p in preds)


def _always(o: Obj) -> bool:
    return True


def _not(pred: Callable[[Obj], bool]) -> Callable[[Obj], bool]:
    return lambda o: not pred(o)


def _where(key: str, value: Any) -> Callable[[Obj], bool]:
    return lambda o: o.get(key) == value


def _sdo(o: Obj) -> bool:
    return _std(o) and _versioned(o)


def _not_tlp(o: Obj) -> bool:
    """TLP marking definitions are fixed objects: stix2 rejects any change to their id."""
    return _std(o) and o.get("definition_type") != "tlp" and not o.get("extensions", {}).get(TLP2_EXTENSION)


def _stix_indicator(o: Obj) -> bool:
    return o["type"] == "indicator" and o["pattern_type"] == "stix"


def _set(**values: Any) -> Callable[[Obj, _Gen], None]:
    def apply(o: Obj, g: _Gen) -> None:
        o.update(copy.deepcopy(values))

    return apply


def _drop(*keys: str) -> Callable[[Obj, _Gen], None]:
    def apply(o: Obj, g: _Gen) -> None:
        for key in keys:
            o.pop(key, None)

    return apply


def _with(key: str, make: Callable[[Obj, _Gen], Any]) -> Callable[[Obj, _Gen], None]:
    def apply(o: Obj, g: _Gen) -> None:
        o[key] = make(o, g)

    return apply


def _add(make_name: Callable[[Obj, _Gen], str], value: Any) -> Callable[[Obj, _Gen], None]:
    def apply(o: Obj, g: _Gen) -> None:
        o[make_name(o, g)] = value

    return apply


def _extension(content: Obj) -> Callable[[Obj, _Gen], None]:
    return _with("extensions", lambda o, g: {g.id4("extension-definition"): copy.deepcopy(content)})


def _external_id(*values: str) -> Callable[[Obj, _Gen], None]:
    def apply(o: Obj, g: _Gen) -> None:
        o["external_references"][0]["external_id"] = g.rng.choice(values)

    return apply


def _aliased_hash_reference(o: Obj, g: _Gen) -> list[Obj]:
    """stix2 maps "sha256" to "SHA-256"; 2.5 wants the hash-algorithm-ov name itself."""
    return [{"source_name": "acme", "url": "https://acme.example/r", "hashes": {"sha256": g.hexdigest(64)}}]


def _enc_alone(o: Obj, g: _Gen) -> None:
    o.pop("name", None)
    o["name_enc"] = "windows-1252"


def _object_ref_form(o: Obj, g: _Gen) -> list[str]:
    return [_ref_form(o["object_refs"][0], g, any_type=True)]


def _drop_required(o: Obj, g: _Gen) -> None:
    if o["type"] == "file":
        o.pop("hashes")
        o.pop("name", None)
    else:
        o.pop(g.rng.choice(REQUIRED[o["type"]]))


def _id_variant(version: str) -> Callable[[Obj, _Gen], None]:
    def apply(o: Obj, g: _Gen) -> None:
        prefix, u = o["id"].split("--")
        o["id"] = f"{prefix}--{u[:14]}{version}{u[15:]}"

    return apply


def _loose_time(key: str) -> Callable[[Obj, _Gen], None]:
    """A time strptime accepts but 2.16 does not: single-digit fields or lower-case t/z."""

    def apply(o: Obj, g: _Gen) -> None:
        o[key] = "2024-1-1T0:0:0Z" if g.rng.random() < 0.5 else o[key].replace("T", "t").replace("Z", "z")

    return apply


def _seconds_only(o: Obj, g: _Gen) -> None:
    same = o["modified"] == o["created"]
    o["created"] = o["created"][:19] + g.rng.choice(("Z", ".5Z", ".12Z"))
    if same:
        o["modified"] = o["created"]


def _uuid_form(o: Obj, g: _Gen) -> str:
    prefix, u = o["id"].split("--")
    return g.rng.choice((f"{prefix}--{{{u}}}", f"{prefix}--urn:uuid:{u}", f"{prefix}--{u.replace('-', '')}"))


def _ref_form(ref: str, g: _Gen, any_type: bool = False) -> str:
    """The UUID in a notation uuid.UUID parses; where any type may be referenced, a bad type too."""
    prefix, u = ref.split("--")
    forms = [f"{prefix}--{{{u}}}", f"{prefix}--{u.replace('-', '')}", f"{prefix}--urn:uuid:{u}"]
    if any_type:
        forms += [f"{prefix.title()}--{u}", f"--{u}", f"x y--{u}"]
    return g.rng.choice(forms)


def _toplevel_bad_name(o: Obj, g: _Gen) -> None:
    """With a top-level property extension stix2 stops checking property names altogether."""
    o["extensions"] = {g.id4("extension-definition"): {"extension_type": "toplevel-property-extension"}}
    o[g.rng.choice(("_hidden", "1st_seen", "Score"))] = 1


def _tlp_tamper(o: Obj, g: _Gen) -> None:
    g.rng.choice((lambda: o.update(name=o["name"].title()), lambda: o.pop("name"), lambda: o.update(x_acme=1),
                  lambda: o.update(created_by_ref=g.identities[0])))()  # fmt: skip


# (name, expected verdict, applies to, mutation)
Mutation = tuple[str, str, Callable[[Obj], bool], Callable[[Obj, _Gen], None]]
_TLP = _where("definition_type", "tlp")
_STATEMENT = _where("definition_type", "statement")
_SCO = _is(*SCO_TYPES)
_CUSTOM = _not(_std)
_ANY = _always


def _pick(*values: Any) -> Callable[[Obj, _Gen], Any]:
    return lambda o, g: copy.deepcopy(g.rng.choice(values))


MUTATIONS: tuple[Mutation, ...] = (
    # stix2 rejects these; so must we.
    ("no-type", INVALID, _ANY, _drop("type")),
    ("id-other-type", INVALID, _std, _with("id", lambda o, g: g.id4("x-acme-thing"))),
    ("id-not-uuid", INVALID, _std, _with("id", lambda o, g: f"{o['type']}--{g.word()}-{g.rng.randrange(999)}")),
    ("id-ncs-variant", INVALID, _std, lambda o, g: o.update(id=o["id"][:-17] + "c" + o["id"][-16:])),
    ("id-number", INVALID, _std, _set(id=12345)),
    ("created-feb-30", INVALID, _sdo, _set(created="2024-02-30T00:00:00.000Z")),
    ("time-offset", INVALID, _is("indicator"), _with("valid_from", lambda o, g: o["valid_from"][:19] + "+00:00")),
    ("time-words", INVALID, _all(_is("report"), _has("published")), _set(published="yesterday")),
    ("time-nanos", INVALID, _is("indicator"), _with("valid_from", lambda o, g: o["valid_from"][:19] + ".1234567Z")),
    ("month-13", INVALID, _sdo, _with("modified", lambda o, g: o["modified"][:5] + "13" + o["modified"][7:])),
    ("bad-pattern", INVALID, _stix_indicator, _with("pattern", _pick(*BAD_PATTERNS))),
    ("pattern-number", INVALID, _stix_indicator, _set(pattern=42)),
    ("required-missing", INVALID, lambda o: o["type"] in REQUIRED or o["type"] == "file", _drop_required),
    ("family-unnamed", INVALID, _is("malware"), lambda o, g: (o.update(is_family=True), o.pop("name", None))),
    ("revoked-maybe", INVALID, _sdo, _set(revoked="maybe")),
    ("family-perhaps", INVALID, _is("malware"), _set(is_family="perhaps")),
    ("defanged-nope", INVALID, _SCO, _set(defanged="nope")),
    ("confidence-words", INVALID, _sdo, _set(confidence="high")),
    ("author-not-id", INVALID, _sdo, _set(created_by_ref="identity--acme")),
    ("author-not-identity", INVALID, _sdo, _with("created_by_ref", lambda o, g: g.id4("malware"))),
    ("marking-not-marking", INVALID, _std, _with("object_marking_refs", lambda o, g: [g.identities[0]])),
    ("object-refs-junk", INVALID, _has("object_refs"), _set(object_refs=["not-an-id"])),
    ("sighting-of-sro", INVALID, _is("sighting"), _with("sighting_of_ref", lambda o, g: g.id4("relationship"))),
    ("source-marking", INVALID, _is("relationship"), _set(source_ref=GREEN)),
    ("valid-until-equal", INVALID, _is("indicator"), lambda o, g: o.update(valid_until=o["valid_from"])),
    ("last-before-first", INVALID, _has("first_seen", "last_seen"), _set(last_seen="2023-01-01T00:00:00Z")),
    ("stop-at-start", INVALID, _has("start_time"), lambda o, g: o.update(stop_time=o["start_time"])),
    ("ext-ref-bare", INVALID, _sdo, _set(external_references=[{"source_name": "acme"}])),
    ("kill-chain-bare", INVALID, _is("indicator", "malware"), _set(kill_chain_phases=[{"phase_name": "x"}])),
    ("hash-length", INVALID, _is("file"), _with("hashes", lambda o, g: {"SHA-256": g.hexdigest(60)})),
    ("hashes-empty", INVALID, _is("file"), _set(hashes={})),
    ("underscore-property", INVALID, _std, _set(_internal=1)),
    ("digit-property", INVALID, _std, _set(**{"1st_seen": "x"})),
    ("selector-absent", INVALID, _sdo, _set(granular_markings=[{"marking_ref": GREEN, "selectors": ["x_none"]}])),
    ("tlp-other-id", INVALID, _TLP, _with("id", lambda o, g: g.id4("marking-definition"))),
    ("statement-empty", INVALID, _STATEMENT, _set(definition={})),
    ("extensions-list", INVALID, _std, _set(extensions=["x"])),
    ("size-negative", INVALID, _is("file"), _set(size=-1)),
    ("count-huge", INVALID, _is("sighting"), _set(count=10**9)),
    ("magic-not-hex", INVALID, _is("file"), _set(magic_number_hex="zz")),
    ("latitude-alone", INVALID, _is("location"), _set(latitude=48.1)),
    # stix2 may or may not take these as STIX 2.0; we reject them either way.
    ("spec-version-2.0", REJECT, _sdo, _set(spec_version="2.0")),
    ("spec-version-missing", REJECT, _sdo, _drop("spec_version")),
    # The specification forbids these; stix2 accepts them. Each must fail exactly its rule.
    ("type-upper", "type-name", _is("indicator", "report"), lambda o, g: o.update(type=o["type"].title())),
    ("type-custom-bad", "type-name", _CUSTOM, _with("type", _pick("X-Acme", "xa", "x--acme", "x_acme", 5))),
    ("id-uuid-notation", "id", _not_tlp, _with("id", _uuid_form)),
    ("id-version-0", "id", _not_tlp, _id_variant("0")),
    ("id-version-7", "id", _not_tlp, _id_variant("7")),
    ("id-missing-sco", "id", _SCO, _drop("id")),
    ("id-custom-junk", "id", _CUSTOM, _with("id", lambda o, g: g.rng.choice((g.word(), g.id4("x-other"), 7)))),
    ("spec-version-2.2", "spec-version", _std, _with("spec_version", _pick("2.2", "2.1.0", 2.1, ""))),
    ("sco-spec-version-2.0", "spec-version", _SCO, _set(spec_version="2.0")),
    ("marking-no-spec-version", "spec-version", _has("definition_type"), _drop("spec_version")),
    ("created-missing", "missing-property", _versioned, _drop("created")),
    ("modified-missing", "missing-property", _versioned, _drop("modified")),
    ("valid-from-missing", "missing-property", _is("indicator"), _drop("valid_from", "valid_until")),
    ("statement-no-created", "missing-property", _STATEMENT, _drop("created")),
    ("valid-from-loose", "timestamp-format", _is("indicator"), _loose_time("valid_from")),
    ("published-loose", "timestamp-format", _all(_is("report"), _has("published")), _loose_time("published")),
    ("first-seen-loose", "timestamp-format", _has("first_seen"), _loose_time("first_seen")),
    ("created-seconds", "timestamp-precision", _versioned, _seconds_only),
    ("modified-before-created", "modified-before-created", _versioned, _set(modified="2023-12-31T23:59:59.999Z")),
    ("confidence-string", "property-type", _versioned, _set(confidence="50")),
    ("confidence-float", "property-type", _versioned, _set(confidence=50.5)),
    ("confidence-bool", "property-type", _versioned, _set(confidence=True)),
    ("revoked-string", "property-type", _versioned, _with("revoked", _pick("false", 0, "f"))),
    ("name-number", "property-type", _all(_std, _has("name")), _with("name", _pick(12345, ["x"], {"en": "x"}))),
    ("description-null", "property-type", _is(*DESCRIBED), _set(description=None)),
    ("labels-string", "property-type", _versioned, _set(labels="one-label")),
    ("labels-numbers", "property-type", _versioned, _set(labels=[1, 2])),
    ("pattern-type-number", "property-type", _is("indicator"), _set(pattern_type=5)),
    ("markings-string", "property-type", _std, _set(object_marking_refs=GREEN)),
    ("phase-number", "property-type", _is("indicator"), _set(kill_chain_phases=[{"kill_chain_name": "a", "phase_name": 7}])),  # noqa: E501
    ("ext-ref-url-number", "property-type", _sdo, _set(external_references=[{"source_name": "acme", "url": 5}])),
    ("family-string", "property-type", _all(_is("malware"), _has("name")), _set(is_family="true")),
    ("count-string", "property-type", _is("sighting"), _set(count="3")),
    ("summary-string", "property-type", _is("sighting"), _set(summary="false")),
    ("sighted-by-string", "property-type", _is("sighting"), _with("where_sighted_refs", lambda o, g: g.identities[1])),
    ("refs-string", "property-type", _is("report", "note"), _with("object_refs", lambda o, g: o["object_refs"][0])),
    ("value-number", "property-type", _is("domain-name", "url"), _set(value=12345)),
    ("size-string", "property-type", _is("file"), _set(size="1024")),
    ("defanged-string", "property-type", _SCO, _set(defanged="true")),
    ("statement-number", "property-type", _STATEMENT, _set(definition={"statement": 5})),
    ("latitude-nan", "property-type", _is("location"), _set(latitude=float("nan"), longitude=11.5)),
    ("labels-empty", "empty-value", _versioned, _set(labels=[])),
    ("custom-empty", "empty-value", _ANY, _set(x_acme_list=[])),
    ("ext-refs-empty", "empty-value", _sdo, _set(external_references=[])),
    ("extensions-empty", "empty-value", _not_tlp, _set(extensions={})),
    ("confidence-high", "confidence-range", _versioned, _with("confidence", _pick(101, -1, 255))),
    ("size-huge", "integer-range", _is("file"), _set(size=2**60)),
    ("author-ref-form", "identifier-ref", _sdo, _with("created_by_ref", lambda o, g: _ref_form(g.identities[2], g))),
    ("marking-ref-form", "identifier-ref", _std, _with("object_marking_refs", lambda o, g: [_ref_form(GREEN, g)])),
    ("custom-author", "identifier-ref", _CUSTOM, _with("created_by_ref", lambda o, g: g.id4("malware"))),
    ("custom-marking", "identifier-ref", _CUSTOM, _with("object_marking_refs", lambda o, g: [g.identities[0]])),
    ("object-ref-form", "identifier-ref", _has("object_refs"), _with("object_refs", _object_ref_form)),
    ("property-name-bad", "custom-property-name", _ANY, _add(_pick("x-acme-score", "xY_score", "xy", "x" * 251), 1)),
    ("toplevel-extension-bad-name", "custom-property-name", _not_tlp, _toplevel_bad_name),
    ("reserved", "reserved-property", _ANY, _add(_pick("severity", "action", "username", "phone_number"), "high")),
    ("defanged-sdo", "defanged-non-sco", _versioned, _set(defanged=False)),
    ("lang-bad", "lang-tag", _versioned, _with("lang", _pick("en US", "en_US", "e", "en-"))),
    ("granular-lang-bad", "lang-tag", _std, _set(granular_markings=[{"lang": "en_GB", "selectors": ["id"]}])),
    ("hash-key-short", "hashes", _is("file"), lambda o, g: o["hashes"].update(x1="abcd")),
    ("hash-value-number", "hashes", _is("file"), lambda o, g: o["hashes"].update(x_acme_hash=12345)),
    ("ext-ref-hash-alias", "hashes", _sdo, _with("external_references", _aliased_hash_reference)),
    ("hex-upper", "hex", _has("magic_number_hex"), _set(magic_number_hex="4D5A")),
    ("base64-junk", "binary", _is("artifact"), _with("payload_bin", lambda o, g: " !" + o["payload_bin"])),
    ("extension-key", "extension", _ANY, _set(extensions={"acme": {"x_level": 1}})),
    ("extension-untyped", "extension", _ANY, _extension({"x_level": 1})),
    ("extension-type-bogus", "extension", _ANY, _extension({"extension_type": "new-thing"})),
    ("extension-hollow", "extension", _SCO, _set(extensions={"x-acme-ext": {}})),
    ("tlp-tampered", "tlp-instance", _TLP, _tlp_tamper),
    ("marks-itself", "marking-self-reference", _STATEMENT, lambda o, g: o.update(object_marking_refs=[o["id"]])),
    ("rel-type-bad", "relationship-type", _is("relationship"), _with("relationship_type", _pick("Uses", "related to"))),
    ("name-enc-alone", "enc-without-original", _is("file"), _enc_alone),
    ("cve-malformed", "external-id", _is("vulnerability"), _external_id("cve-2024-1234", "2024-1234", "CVE-24-1")),
    ("capec-malformed", "external-id", _is("attack-pattern"), _external_id("550", "capec-550")),
    ("ipv4-junk", "sco-value", _is("ipv4-addr"), _with("value", _pick("999.1.1.1", "10.0.0.1/33", "evil.example"))),
    ("ipv6-junk", "sco-value", _is("ipv6-addr"), _with("value", _pick("2001:db8::g", "10.0.0.1", "2001:db8::/129"))),
    ("mac-junk", "sco-value", _is("mac-addr"), _with("value", lambda o, g: o["value"].upper().replace(":", "-"))),
    ("email-junk", "sco-value", _is("email-addr"), _with("value", lambda o, g: g.rng.choice(("jane", f"J <{o['value']}>")))),  # noqa: E501
    # Not a fault: upper-case UUID digits are RFC 4122 input; stix2 and we accept them.
    ("id-upper-case", VALID, _not_tlp, lambda o, g: o.update(id=o["type"] + o["id"][len(o["type"]) :].upper())),
)  # fmt: skip


def _apply(index: int, obj: Obj, mutation: Mutation, g: _Gen) -> Case:
    name, expect, _, change = mutation
    mutated = copy.deepcopy(obj)
    change(mutated, g)
    return Case(f"{expect}/{name}/{obj['type']}/{index}", mutated, expect)


def mutations(objects: list[Obj], g: _Gen) -> list[Case]:
    """Per object one fault stix2 catches and one it lets through; every mutation at least 5 times."""
    cases: list[Case] = []
    for index, obj in enumerate(objects):
        usable = [m for m in MUTATIONS if m[2](obj)]
        for wanted in (INVALID, "spec"):
            pool = [m for m in usable if (m[1] == INVALID) == (wanted == INVALID) and m[1] != REJECT]
            cases.append(_apply(index, obj, g.rng.choice(pool), g))
    for mutation in MUTATIONS:
        candidates = [i for i, obj in enumerate(objects) if mutation[2](obj)]
        for index in g.rng.sample(candidates, min(5, len(candidates))):
            cases.append(_apply(index, objects[index], mutation, g))
    return cases


@cache
def corpus() -> tuple[Case, ...]:
    g = _Gen(random.Random(SEED))
    objects = valid_objects(g)
    cases = [Case(f"valid/{obj['type']}/{i}", obj, VALID) for i, obj in enumerate(objects)]
    cases.extend(mutations(objects, g))
    return tuple(cases)
