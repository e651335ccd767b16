"""Single-fault mutations of valid objects, each with the verdict it must get (see the package
docstring): the ``MUTATIONS`` table and ``mutations()``, which picks and applies them."""

from __future__ import annotations

import copy
from collections.abc import Callable

from tests.stix.corpus.faults import (
    DESCRIBED,
    GREEN,
    REQUIRED,
    _add,
    _aliased_hash_reference,
    _all,
    _always,
    _drop,
    _drop_required,
    _enc_alone,
    _extension,
    _external_id,
    _has,
    _id_variant,
    _is,
    _loose_time,
    _not,
    _not_tlp,
    _object_ref_form,
    _pick,
    _ref_form,
    _sdo,
    _seconds_only,
    _set,
    _std,
    _stix_indicator,
    _tlp_tamper,
    _toplevel_bad_name,
    _uuid_form,
    _versioned,
    _where,
    _with,
)
from tests.stix.corpus.gen import INVALID, REJECT, VALID, Case, Gen, Obj
from tests.stix.corpus.patterns import BAD_PATTERNS
from tests.stix.corpus.valid import SCO_TYPES

# (name, expected verdict, applies to, mutation)
Mutation = tuple[str, str, Callable[[Obj], bool], Callable[[Obj, Gen], object]]
_TLP = _where("definition_type", "tlp")
_STATEMENT = _where("definition_type", "statement")
_SCO = _is(*SCO_TYPES)
_CUSTOM = _not(_std)
_ANY = _always

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


def _apply(index: int, obj: Obj, mutation: Mutation, g: Gen) -> Case:
    name, expect, _, change = mutation
    mutated = copy.deepcopy(obj)
    change(mutated, g)
    return Case(f"{expect}/{name}/{obj['type']}/{index}", mutated, expect)


def mutations(objects: list[Obj], g: Gen) -> list[Case]:
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

