"""Builders of valid STIX 2.1 objects, one function per object type (or family of types).

Later builders refer to the ids earlier ones made (``Gen.sdo_ids``, ``Gen.statements``), so
``GENERATORS`` is in dependency order.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

from tests.stix.corpus.gen import (
    INDICATOR_TYPES,
    KILL_CHAIN,
    MARKING_IDS,
    N_EACH,
    N_SIMPLE_INDICATORS,
    TLP1,
    TLP2,
    Gen,
    Obj,
)
from tests.stix.corpus.patterns import COMPOUND, OTHER_PATTERNS, simple_pattern


def simple_indicator(g: Gen, i: int) -> Obj:
    """The gen_stix.py shape: one comparison, TLP:GREEN, name/description/labels/indicator_types."""
    kind, pattern = simple_pattern(g)
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

def compound_indicator(g: Gen, i: int) -> Obj:
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


def malware(g: Gen, i: int) -> Obj:
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


def vulnerability(g: Gen, i: int) -> Obj:
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


def report(g: Gen, i: int) -> Obj:
    obj = g.common("report", i)
    refs = g.rng.sample(g.sdo_ids, min(len(g.sdo_ids), g.rng.randrange(1, 6))) or [g.id4("indicator")]
    obj.update(name=f"Threat report {i}", published=obj["modified"], object_refs=refs)
    if g.rng.random() < 0.5:
        obj["report_types"] = ["threat-report"]
    return obj


def identity(g: Gen, i: int) -> Obj:
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


def attack_pattern(g: Gen, i: int) -> Obj:
    obj = g.common("attack-pattern", i)
    obj["name"] = f"{g.word().title()} phishing"
    capec = f"CAPEC-{g.rng.randrange(1, 700)}"
    obj["external_references"] = [{"source_name": "capec", "external_id": capec}]
    if g.rng.random() < 0.5:
        obj["kill_chain_phases"] = [g.rng.choice(KILL_CHAIN)]
    g.sdo_ids.append(obj["id"])
    return obj


def course_of_action(g: Gen, i: int) -> Obj:
    obj = g.common("course-of-action", i)
    obj["name"] = f"Block {g.domain()}"
    if g.rng.random() < 0.6:
        obj["description"] = "Add the domain to the DNS sinkhole."
    g.sdo_ids.append(obj["id"])
    return obj


def note(g: Gen, i: int) -> Obj:
    obj = g.common("note", i)
    obj.update(content="Seen in our sensors too.", object_refs=[g.rng.choice(g.sdo_ids)])
    if g.rng.random() < 0.5:
        obj.update(abstract="Confirmation", authors=[f"{g.word()}@example.org"])
    return obj


def sighting(g: Gen, i: int) -> Obj:
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


def relationship(g: Gen, i: int) -> Obj:
    obj = g.common("relationship", i)
    rtype = g.rng.choice(("indicates", "uses", "mitigates", "related-to", "derived-from", "targets"))
    obj.update(relationship_type=rtype, source_ref=g.rng.choice(g.sdo_ids), target_ref=g.rng.choice(g.sdo_ids))
    if g.rng.random() < 0.3:
        obj.update(start_time=g.ts(i), stop_time=g.ts(i + 5000))
    return obj


def marking(g: Gen, i: int) -> Obj:
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


def sco(g: Gen, i: int) -> Obj:
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


def other_sdo(g: Gen, i: int) -> Obj:
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


def custom_object(g: Gen, i: int) -> Obj:
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


GENERATORS: tuple[Callable[[Gen, int], Obj], ...] = (
    compound_indicator, malware, vulnerability, attack_pattern, course_of_action, identity, marking,
    sco, sco, sco, other_sdo, custom_object, note, sighting, relationship, report,
)  # fmt: skip


def valid_objects(g: Gen) -> list[Obj]:
    objects = [simple_indicator(g, i) for i in range(N_SIMPLE_INDICATORS)]
    for gen in GENERATORS:  # later generators refer to ids the earlier ones made
        objects.extend(gen(g, i) for i in range(N_EACH))
    return objects
