"""One focused test per strict rule: stix2 accepts both objects, we accept the compliant one and
reject the other, which differs in one property, with exactly that rule's code."""

from __future__ import annotations

import copy
import inspect
import warnings
from typing import Any

import pytest
import stix2
import stix2.registry
from stix2 import properties as p
from stix2.v21 import common

from exchange.stix import strict_tables
from exchange.stix.strict import STRICT_RULES, violation
from exchange.stix.validate import check

U = "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
T = "2024-03-01T12:00:00.000Z"
DROP = object()  # as a value in the changes below: remove the property

INDICATOR = {
    "type": "indicator", "spec_version": "2.1", "id": f"indicator--{U}", "created": T, "modified": T,
    "pattern": "[domain-name:value = 'evil.example']", "pattern_type": "stix", "valid_from": T,
}  # fmt: skip
MALWARE = {"type": "malware", "spec_version": "2.1", "id": f"malware--{U}", "created": T, "modified": T,
           "name": "Emotet", "is_family": True}  # fmt: skip
FILE = {"type": "file", "spec_version": "2.1", "id": f"file--{U}", "name": "a.exe", "hashes": {"MD5": "0" * 32}}
ARTIFACT = {"type": "artifact", "spec_version": "2.1", "id": f"artifact--{U}", "payload_bin": "aGVsbG8="}
IPV4 = {"type": "ipv4-addr", "spec_version": "2.1", "id": f"ipv4-addr--{U}", "value": "198.51.100.7"}
RELATIONSHIP = {"type": "relationship", "spec_version": "2.1", "id": f"relationship--{U}", "created": T,
                "modified": T, "relationship_type": "indicates", "source_ref": f"indicator--{U}",
                "target_ref": f"malware--{U}"}  # fmt: skip
STATEMENT = {"type": "marking-definition", "spec_version": "2.1", "id": f"marking-definition--{U}",
             "created": T, "definition_type": "statement", "definition": {"statement": "Copyright ACME"}}  # fmt: skip
TLP_GREEN = {"type": "marking-definition", "spec_version": "2.1",
             "id": "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", "created": "2017-01-20T00:00:00.000Z",
             "definition_type": "tlp", "name": "TLP:GREEN", "definition": {"tlp": "green"}}  # fmt: skip
VULNERABILITY = {"type": "vulnerability", "spec_version": "2.1", "id": f"vulnerability--{U}", "created": T,
                 "modified": T, "name": "CVE-2024-3094",
                 "external_references": [{"source_name": "cve", "external_id": "CVE-2024-3094"}]}  # fmt: skip
CUSTOM = {"type": "x-acme-thing", "spec_version": "2.1", "id": f"x-acme-thing--{U}", "created": T, "modified": T,
          "x_acme_text": "custom objects pass"}  # fmt: skip
EXTENSION = f"extension-definition--{U}"

# rule code -> (base object, changes making it compliant, changes making it break the rule)
RULES: dict[str, tuple[dict[str, Any], dict[str, Any], dict[str, Any]]] = {
    "type-name": (CUSTOM, {}, {"type": "X-Acme-Thing"}),
    "id": (INDICATOR, {}, {"id": f"indicator--{{{U}}}"}),
    "spec-version": (INDICATOR, {}, {"spec_version": "2.2"}),
    "missing-property": (INDICATOR, {}, {"valid_from": DROP}),
    "timestamp-format": (INDICATOR, {"valid_from": "2024-01-01T00:00:00Z"}, {"valid_from": "2024-1-1T0:0:0Z"}),
    "timestamp-precision": (MALWARE, {}, {"created": "2024-03-01T12:00:00Z"}),
    "modified-before-created": (MALWARE, {}, {"modified": "2024-02-29T12:00:00.000Z"}),
    "property-type": (INDICATOR, {"confidence": 50}, {"confidence": "50"}),
    "empty-value": (INDICATOR, {"labels": ["phishing"]}, {"labels": []}),
    "confidence-range": (INDICATOR, {"confidence": 100}, {"confidence": 101}),
    "integer-range": (FILE, {"size": 2**53 - 1}, {"size": 2**53}),
    "identifier-ref": (INDICATOR, {"created_by_ref": f"identity--{U}"}, {"created_by_ref": f"identity--{{{U}}}"}),
    "custom-property-name": (INDICATOR, {"x_acme_score": 1}, {"x-acme-score": 1}),
    "reserved-property": (INDICATOR, {"x_severity": "high"}, {"severity": "high"}),
    "defanged-non-sco": (INDICATOR, {}, {"defanged": False}),
    "lang-tag": (MALWARE, {"lang": "en-US"}, {"lang": "en_US"}),
    "hashes": (FILE, {"hashes": {"MD5": "0" * 32, "x_acme": "abc"}}, {"hashes": {"MD5": "0" * 32, "x1": "abc"}}),
    "hex": (FILE, {"magic_number_hex": "4d5a"}, {"magic_number_hex": "4D5A"}),
    "binary": (ARTIFACT, {}, {"payload_bin": "aGVs bG8="}),
    "extension": (
        INDICATOR,
        {"extensions": {EXTENSION: {"extension_type": "property-extension", "x_a": 1}}},
        {"extensions": {EXTENSION: {"x_a": 1}}},
    ),  # fmt: skip
    "tlp-instance": (TLP_GREEN, {}, {"name": "TLP:Green"}),
    "marking-self-reference": (STATEMENT, {}, {"object_marking_refs": [STATEMENT["id"]]}),
    "relationship-type": (RELATIONSHIP, {}, {"relationship_type": "related to"}),
    "enc-without-original": (FILE, {"name_enc": "windows-1252"}, {"name_enc": "windows-1252", "name": DROP}),
    "external-id": (VULNERABILITY, {}, {"external_references": [{"source_name": "cve", "external_id": "2024-3094"}]}),
    # stix2-patterns takes any MD6 value that starts with 32 hex digits (decision 0009)
    "pattern": (INDICATOR, {"pattern": f"[file:hashes.MD6 = '{'a' * 32}']"},
                {"pattern": f"[file:hashes.MD6 = '{'a' * 32}zz']"}),
    "sco-value": (IPV4, {"value": "198.51.100.0/24"}, {"value": "198.51.100.256"}),
}


def changed(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    obj = copy.deepcopy(base)
    for key, value in changes.items():
        if value is DROP:
            obj.pop(key, None)
        else:
            obj[key] = copy.deepcopy(value)
    return obj


def stix2_accepts(obj: dict[str, Any]) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            stix2.parse(copy.deepcopy(obj), allow_custom=True)
    except Exception:  # any failure inside stix2 is its verdict
        return False
    return True


def test_every_rule_has_a_focused_case() -> None:
    assert RULES.keys() == STRICT_RULES.keys()


@pytest.mark.parametrize("code", list(RULES))
def test_rule(code: str) -> None:
    base, good, bad = RULES[code]
    compliant, breaking = changed(base, good), changed(base, bad)
    assert stix2_accepts(compliant)
    assert stix2_accepts(breaking), "not a gap in stix2: it rejects this object itself"
    assert check(copy.deepcopy(compliant)) is None
    rejection = check(copy.deepcopy(breaking))
    assert rejection is not None
    assert (rejection.source, rejection.code) == ("spec", code), rejection


@pytest.mark.parametrize(
    "obj",
    [
        changed(INDICATOR, {"pattern_type": 5}),  # the known cases from the brief
        changed(INDICATOR, {"confidence": -1}),
        changed(INDICATOR, {"spec_version": "2.0", "labels": ["malicious-activity"]}),  # stix2: a 2.0 indicator
        changed(FILE, {"spec_version": "2.0"}),
        changed(INDICATOR, {"labels": "phishing"}),  # stix2 wraps a lone string into a list
        changed(INDICATOR, {"revoked": "true"}),
        changed(MALWARE, {"description": None}),  # stix2 drops nulls
        changed(FILE, {"id": DROP}),  # stix2 makes up an SCO id
        changed(CUSTOM, {"confidence": 1000}),  # stix2 checks nothing on custom objects
        {"type": "bundle", "id": f"bundle--{U}", "objects": [changed(INDICATOR, {"confidence": 101})]},
    ],
)
def test_stix2_gaps_are_rejected(obj: dict[str, Any]) -> None:
    assert stix2_accepts(obj)
    rejection = check(copy.deepcopy(obj))
    assert rejection is not None
    assert rejection.source == "spec"


@pytest.mark.parametrize(
    "obj",
    [
        changed(INDICATOR, {"x_opencti_score": 80, "x_mitre_platforms": ["windows"], "lang": "zh-Hant-TW"}),
        changed(INDICATOR, {"id": f"indicator--{U.upper()}", "modified": "2024-03-01T12:00:00.123456Z"}),
        changed(FILE, {"spec_version": DROP, "x_acme_seen": {"count": 2}}),
        {"type": "x-acme-sensor", "id": f"x-acme-sensor--{U}", "x_acme_host": "gw1"},  # SCO-like custom
        CUSTOM,
        changed(
            MALWARE,
            {"extensions": {EXTENSION: {"extension_type": "toplevel-property-extension"}}, "acme_family_score": 7},
        ),  # fmt: skip
        {"type": "bundle", "id": f"bundle--{U}", "objects": [INDICATOR, MALWARE, FILE]},
    ],
)
def test_custom_content_real_feeds_use_passes(obj: dict[str, Any]) -> None:
    assert stix2_accepts(obj)
    assert check(copy.deepcopy(obj)) is None


def test_violation_does_not_modify_the_object() -> None:
    obj = changed(INDICATOR, {"labels": "phishing", "confidence": "50"})
    before = copy.deepcopy(obj)
    assert violation(obj) is not None
    assert obj == before


# stix2 property class -> the kinds strict_tables may give that property
_KINDS: list[tuple[type, str]] = [
    (p.HashesProperty, "H"), (p.ExtensionsProperty, "X"), (p.DictionaryProperty, "D"), (p.ReferenceProperty, "ra"),
    (p.TimestampProperty, "tc"), (p.IntegerProperty, "i"), (p.FloatProperty, "f"), (p.BooleanProperty, "b"),
    (p.HexProperty, "h"), (p.BinaryProperty, "B"), (common.MarkingProperty, "M"), (p.StringProperty, "sl"),
    (p.ObservableProperty, "O"), (p.EmbeddedObjectProperty, "O"),
]  # fmt: skip
_LIST_KINDS = {common.KillChainPhase: "K", common.ExternalReference: "E", common.GranularMarking: "G"}


def _stix2_kinds(prop: p.Property) -> str:
    if isinstance(prop, p.ListProperty):
        contained = prop.contained
        if inspect.isclass(contained):
            return _LIST_KINDS[contained]
        if isinstance(contained, p.ReferenceProperty):
            return "RP"
        return "S" if isinstance(contained, p.StringProperty) else "O"
    return next(kinds for cls, kinds in _KINDS if isinstance(prop, cls))


@pytest.mark.parametrize("category", ["objects", "observables"])
def test_property_tables_match_stix2(category: str) -> None:
    """The kind tables name exactly the properties stix2 defines, with compatible kinds."""
    for otype, cls in stix2.registry.STIX2_OBJ_MAPS["2.1"][category].items():
        if otype == "bundle" or otype.startswith("x-"):  # misp-stix (MISP feeds) registers its custom types
            continue
        ours = strict_tables.TYPE_KINDS[otype]
        theirs = {name: prop for name, prop in cls._properties.items() if name not in ("type", "id")}
        assert ours.keys() == theirs.keys(), otype
        for name, prop in theirs.items():
            assert ours[name] in _stix2_kinds(prop), (otype, name, ours[name])
