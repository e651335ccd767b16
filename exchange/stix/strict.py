"""STIX 2.1 rules that ``stix2.parse(obj, allow_custom=True)`` lets through.

``stix2`` is the reference verdict, but it is a library for *building* objects, so it repairs
and defaults where a validator must refuse: it coerces property values to their types, fills in
``id``, ``created``, ``modified`` and ``valid_from`` with fresh values, reads a missing
``spec_version`` as STIX 2.0, and with ``allow_custom=True`` returns any object of an unknown
type unchecked. Each rule here is one MUST of the specification that stix2 does not enforce,
checked in plain Python before stix2 runs (so it is cheap and never triggers stix2's repairs).
Rules are stated by property *kind* (see :mod:`exchange.stix.strict_props`), not per object type,
so one rule covers every property of that kind. SHOULDs are not rules. Section numbers are those
of STIX 2.1 (Errata 01 edition); docs/decisions/0002-validation.md has the table.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from exchange.stix import validate as _validate  # the module, not the name: validate imports us
from exchange.stix.patterns.errors import PatternError
from exchange.stix.patterns.validate import checked
from exchange.stix.strict_props import (
    CHECKS,
    LANG_RE,
    PROPERTY_NAME_RE,
    TYPE_NAME_RE,
    UUID_RE,
    Problem,
    show,
    wrong_type,
)
from exchange.stix.strict_tables import CUSTOM_KINDS, SCO_TYPES, TYPE_KINDS, VERSIONED_TYPES
from exchange.stix.tlp import TLP1_DEFINITIONS

if TYPE_CHECKING:
    from exchange.stix.validate import Rejection

STRICT_RULES: Final[dict[str, str]] = {
    "type-name": "type is 3-250 lower-case ASCII letters, digits and single hyphens, starting with a letter"
    " (3.1, 11.2.1)",
    "id": "id is present and exactly <type>--<UUID>, the UUID in RFC 4122 8-4-4-4-12 form (2.9, 3.2, 11.2.1)",
    "spec-version": 'spec_version is "2.1"; required on all but SCOs (3.2)',
    "missing-property": "created and modified (SDOs, SROs, language-content, extension-definition, SDO-like"
    " custom objects), created (marking-definition) and valid_from (indicator) are present (3.2, 4.7, 7.2.1)",
    "timestamp-format": "timestamps are YYYY-MM-DDTHH:mm:ss[.s+]Z with two-digit fields (2.16)",
    "timestamp-precision": "created and modified have at least millisecond precision (3.2)",
    "modified-before-created": "modified is not earlier than created (3.2, 3.6.1)",
    "property-type": "each property defined by the specification has its JSON type: string, boolean,"
    " integer, finite number, list, object (2, 3.2, property tables)",
    "empty-value": "lists and dictionaries are never empty (2.3, 2.12)",
    "confidence-range": "confidence is an integer in 0-100 (3.2)",
    "integer-range": "integers fit a signed 54-bit value, |n| <= 2**53 - 1 (2.10)",
    "identifier-ref": "references are <type>--<UUID> with a valid type name and RFC 4122 UUID (2.9, 3.3)",
    "custom-property-name": "other property names are 3-250 characters of a-z, 0-9 and _, starting with a"
    " letter (3.1, 7.3.2, 11.1.1, 11.2.1)",
    "reserved-property": "severity, username, phone_number and action are reserved (3.8)",
    "defanged-non-sco": "defanged is used on SCOs only (3.2)",
    "lang-tag": "lang values and language-content contents keys are RFC 5646 language tags (3.2, 7.1, 7.2.3)",
    "hashes": "hashes keys are 3-250 characters and values strings; external-reference hash keys come from"
    " hash-algorithm-ov (2.5, 2.7)",
    "hex": "hex values are an even number of lower-case hex digits (2.8)",
    "binary": "binary values are RFC 4648 base64 (2.1)",
    "extension": "extensions keys are extension-definition ids or names ending in -ext; values are non-empty"
    " objects; extension_type is from extension-type-enum and present for extension definitions"
    " (3.2, 7.3, 11.3.1)",
    "tlp-instance": "a tlp marking-definition is exactly one of the four standard TLP objects (7.2.1)",
    "marking-self-reference": "a marking-definition does not mark itself (3.2)",
    "relationship-type": "relationship_type is ASCII a-z, 0-9 and hyphen (5.1.2)",
    "enc-without-original": "name_enc and path_enc appear only with name and path (3.1)",
    "external-id": "source_name cve has external_id CVE-YYYY-NNNN+, capec has CAPEC-N (4.1, 4.19)",
    "pattern": "a stix pattern of pattern_version 2.1 is valid by the STIX 2.1 pattern grammar and the"
    " rules stix2-patterns applies, and within the hub's size limits (9, decision 0009)",
    "sco-value": "ipv4-addr and ipv6-addr values are CIDR notation, mac-addr values colon-delimited"
    " lower-case MAC-48, email-addr values an addr-spec without display name (6.5, 6.8, 6.9, 6.10)",
}

_RESERVED_NAMES: Final = frozenset({"severity", "username", "phone_number", "action"})  # 3.8
_ENCODED: Final = {"name_enc": "name", "path_enc": "path"}  # 3.1: no _enc without its property
_RELATIONSHIP_TYPE_RE: Final = re.compile(r"[a-z0-9-]+")  # 5.1.2
_MAC_RE: Final = re.compile(r"[0-9a-f]{2}(?::[0-9a-f]{2}){5}")  # 6.10: colon-delimited lower-case MAC-48
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
_IPV4_CIDR_RE: Final = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}(?:/(?:3[0-2]|[12]?[0-9]))?")  # 6.8
_EMAIL_RE: Final = re.compile(r'(?:[^\s<>@"]+|"[^"]*")@[^\s<>@]+')  # 6.5: addr-spec, no display name


def violation(obj: dict[str, Any]) -> Rejection | None:
    """The first STIX 2.1 rule ``obj`` breaks that stix2 would let through, or None."""
    problem = _object_problem(obj)
    return None if problem is None else _validate.Rejection("spec", *problem)


def _object_problem(obj: dict[str, Any]) -> Problem | None:
    """Checks in the order a reader would: what the object is, its header, each property, then
    the rules that relate properties (which may then rely on each property being well-formed)."""
    otype = obj.get("type")
    if type(otype) is not str or not 3 <= len(otype) <= 250 or not TYPE_NAME_RE.fullmatch(otype):
        return "type-name", f"type {show(otype)} is not a STIX type name"
    if otype == "bundle":  # stix2.parse accepts bundles too; judge each object like a lone one
        return _id_problem(obj, otype) or _bundle_problem(obj.get("objects"))
    kinds = TYPE_KINDS.get(otype)
    if kinds is None:  # a custom object: SDO-like when it carries versioning or says so
        kinds = CUSTOM_KINDS
        versioned = "created" in obj or "modified" in obj or _declares_sdo(obj.get("extensions"))
        sco = not versioned
    else:
        versioned = otype in VERSIONED_TYPES
        sco = otype in SCO_TYPES
    return (
        _id_problem(obj, otype)
        or _presence_problem(obj, otype, versioned, sco)
        or _properties_problem(obj, kinds)
        or _cross_problem(obj, otype, versioned)
    )


def _declares_sdo(extensions: Any) -> bool:
    """11.2 / 7.3: an object made by a new-sdo or new-sro extension follows the SDO/SRO rules."""
    if type(extensions) is not dict:
        return False
    return any(type(ext) is dict and ext.get("extension_type") in ("new-sdo", "new-sro") for ext in extensions.values())


def _bundle_problem(objects: Any) -> Problem | None:
    """stix2.parse parses a bundle's objects with the same leniency as lone ones."""
    if type(objects) is list:
        for inner in objects:
            problem = _object_problem(inner) if type(inner) is dict else None
            if problem is not None:
                return problem[0], f"in bundle: {problem[1]}"
    return None


def _id_problem(obj: dict[str, Any], otype: str) -> Problem | None:
    """stix2 generates a missing id, parses the UUID with uuid.UUID (which takes {braces},
    urn:uuid: and no hyphens) and checks nothing on custom objects."""
    oid = obj.get("id")
    if oid is None:
        return "id", f"{otype} has no id"
    if type(oid) is not str or not oid.startswith(otype + "--") or not UUID_RE.fullmatch(oid, len(otype) + 2):
        return "id", f"id {show(oid)} is not {otype}--<RFC 4122 UUID>"
    return None


def _presence_problem(obj: dict[str, Any], otype: str, versioned: bool, sco: bool) -> Problem | None:
    """What stix2 would otherwise make up: spec_version (it falls back to 2.0), created, modified
    and valid_from (it uses the current time)."""
    if "spec_version" in obj:
        if obj["spec_version"] != "2.1":
            return "spec-version", f"spec_version is {show(obj['spec_version'])}, not '2.1'"
    elif not sco:
        return "spec-version", f"{otype} has no spec_version"
    required: tuple[str, ...] = ()
    if versioned:
        required = ("created", "modified", "valid_from") if otype == "indicator" else ("created", "modified")
    elif otype == "marking-definition":
        required = ("created",)
    for name in required:
        if obj.get(name) is None:
            return "missing-property", f"{otype} has no {name}"
    if "defanged" in obj and not sco:
        return "defanged-non-sco", f"defanged on {otype}, which is not an SCO"
    return None


def _properties_problem(obj: dict[str, Any], kinds: dict[str, str]) -> Problem | None:
    """Specification properties by kind; any other property (custom, or from a top-level
    property extension, which stix2 then does not check at all) by its name."""
    for name, value in obj.items():
        if name == "type" or name == "id":
            continue
        kind = kinds.get(name)
        if kind is not None:
            problem = CHECKS[kind](name, value)
        elif name in _RESERVED_NAMES:
            problem = "reserved-property", f"{name} is a reserved property name"
        elif not PROPERTY_NAME_RE.fullmatch(name):
            problem = "custom-property-name", f"property name {show(name)} is not 3-250 of [a-z0-9_]"
        elif type(value) is list and not value:
            problem = "empty-value", f"{name} is an empty list"
        else:
            problem = None
        if problem is not None:
            return problem
    return None


def _cross_problem(obj: dict[str, Any], otype: str, versioned: bool) -> Problem | None:
    """Rules that relate properties or look inside values: stix2 compares only a few time pairs
    (valid_from/valid_until, first/last seen, start/stop) and never reads an SCO's value."""
    if versioned and _ts_key(obj["modified"]) < _ts_key(obj["created"]):
        return "modified-before-created", f"modified {obj['modified']} is earlier than created {obj['created']}"
    for enc, base in _ENCODED.items():
        if enc in obj and base not in obj and otype in ("file", "directory"):
            return "enc-without-original", f"{enc} without {base}"
    value = obj.get("value")
    if otype == "indicator":
        return _pattern_problem(obj)
    if otype == "marking-definition":
        return _marking_problem(obj)
    rtype = obj.get("relationship_type") if otype == "relationship" else None
    if rtype is not None and not _RELATIONSHIP_TYPE_RE.fullmatch(rtype):
        return "relationship-type", f"relationship_type {show(rtype)} is not [a-z0-9-]+"
    if otype == "language-content":
        for key, translation in obj.get("contents", {}).items():
            if not LANG_RE.fullmatch(key):
                return "lang-tag", f"contents key {show(key)} is not an RFC 5646 language tag"
            if type(translation) is not dict:
                return wrong_type(f"contents[{key}]", "an object", translation)
    elif type(value) is str and otype in _SCO_VALUE and not _SCO_VALUE[otype](value):
        return "sco-value", f"{otype} value {show(value)} is not in the form 6.x of STIX 2.1 requires"
    return None


def _pattern_problem(obj: dict[str, Any]) -> Problem | None:
    """The engine's verdict (decision 0009) before stix2's, which is the same but a hundred times
    slower, and with a message that says where the pattern goes wrong."""
    pattern = obj.get("pattern")
    if obj.get("pattern_type") != "stix" or obj.get("pattern_version", "2.1") != "2.1" or type(pattern) is not str:
        return None
    try:
        checked(pattern)
    except PatternError as exc:
        return "pattern", str(exc)
    return None


def _marking_problem(obj: dict[str, Any]) -> Problem | None:
    """stix2 checks only id and created of a TLP marking; 7.2.1 allows no other TLP objects."""
    if obj.get("definition_type") == "tlp" and obj != TLP1_DEFINITIONS.get(obj["id"]):
        return "tlp-instance", f"{obj['id']} is not one of the four TLP marking definitions"
    refs = list(obj.get("object_marking_refs", ()))
    refs += [gm.get("marking_ref") for gm in obj.get("granular_markings", ())]
    if obj["id"] in refs:
        return "marking-self-reference", f"{obj['id']} marks itself"
    return None


def _ts_key(value: str) -> tuple[str, str]:
    """Sortable form of a well-formed timestamp: the seconds, then the fraction without trailing
    zeros (so "5" > "45" > "" orders like 0.5 > 0.45 > 0, at any number of digits)."""
    return value[:19], value[20:-1].rstrip("0")


_PREFIX_LENGTH = re.compile(r"[0-9]{1,3}")


def _ipv6(value: str) -> bool:
    """An IPv6 address, optionally with a /0-128 prefix (CIDR notation, 6.9); no zone index."""
    address, _, prefix = value.partition("/")
    # ASCII digits only: str.isdigit() also accepts "²", which int() then refuses
    if prefix and not (_PREFIX_LENGTH.fullmatch(prefix) and str(int(prefix)) == prefix and int(prefix) <= 128):
        return False
    try:
        return "%" not in address and ipaddress.IPv6Address(address) is not None
    except ValueError:
        return False


_SCO_VALUE: Final[dict[str, Callable[[str], bool]]] = {
    "ipv4-addr": lambda v: _IPV4_CIDR_RE.fullmatch(v) is not None,
    "ipv6-addr": _ipv6,
    "mac-addr": lambda v: _MAC_RE.fullmatch(v) is not None,
    "email-addr": lambda v: _EMAIL_RE.fullmatch(v) is not None,
}
