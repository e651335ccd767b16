"""The kinds of STIX 2.1 property values, a check per kind, and the value syntax they check.

Which kind each property of each type is: :mod:`exchange.stix.strict_tables`.

``stix2`` knows these types too, but it coerces: ``StringProperty`` turns ``5`` into ``"5"``,
``IntegerProperty`` turns ``"50"`` or ``50.7`` into ``50``, ``BooleanProperty`` takes ``"t"``,
``ListProperty`` wraps a lone string into a list and drops ``[]`` and ``null``. The specification
defines the JSON types exactly, so :mod:`exchange.stix.strict` checks values with the checks
here before stix2 gets the chance to repair them. Section numbers: STIX 2.1 (Errata 01 edition).

Kinds (one letter, so the tables in :mod:`exchange.stix.strict_tables` stay readable):
``s`` string, ``l`` language tag, ``b`` boolean, ``i`` integer, ``f`` float, ``t`` timestamp,
``c`` created/modified (millisecond precision), ``r`` identifier, ``a`` identity identifier,
``S`` list of strings, ``R`` list of identifiers, ``P`` list of marking-definition identifiers,
``K`` kill chain phases, ``E`` external references, ``G`` granular markings, ``H`` hashes,
``X`` extensions, ``D`` dictionary, ``h`` hex, ``B`` binary, ``M`` marking definition body,
``O`` nested structure stix2 parses and type-checks itself.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any, Final

from exchange.core.timestamps import MILLISECONDS_LENGTH, TIMESTAMP_RE

Problem = tuple[str, str]  # (rule code, message)
Check = Callable[[str, Any], Problem | None]  # (property name, value) -> problem

# --- value syntax -------------------------------------------------------------------------------

# 2.9: RFC 4122 UUIDs in their 8-4-4-4-12 string form, versions 1-5, the RFC 4122 variant; the one
# copy of the rule. Canonical (lower-case) here; RFC 4122 lets a reader take either case, so the
# validation does (``UUID_RE``), and the hub's case rule refuses upper case on its own (``hub_rules``).
UUID: Final = r"[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
_ANY_CASE_UUID: Final = rf"(?i:{UUID})"
UUID_RE: Final = re.compile(_ANY_CASE_UUID)
# 3.1, 11.2.1: lower-case letters, digits and single hyphens between words, starting with a letter.
TYPE_NAME_RE: Final = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
IDENTIFIER_RE: Final = re.compile(rf"([a-z][a-z0-9]*(?:-[a-z0-9]+)*)--{_ANY_CASE_UUID}")
# 3.1, 7.3.2, 11.1.1, 11.2.1: names of properties the specification does not define.
PROPERTY_NAME_RE: Final = re.compile(r"[a-z][a-z0-9_]{2,249}")
_HASH_KEY_RE: Final = re.compile(r"[a-zA-Z0-9_-]{3,250}")  # 2.7
_EXTENSION_NAME_RE: Final = re.compile(r"[a-z0-9-]{0,246}-ext")  # 11.3.1
_HEX_RE: Final = re.compile(r"(?:[0-9a-f]{2})*")  # 2.8: lower-case only
_BASE64_RE: Final = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")  # RFC 4648
_EXTERNAL_ID_RE: Final = {"cve": re.compile(r"CVE-[0-9]{4}-[0-9]{4,}"), "capec": re.compile(r"CAPEC-[0-9]+")}
# RFC 5646 Language-Tag, well-formedness only: langtag / privateuse / irregular grandfathered.
_LANGTAG = (
    r"(?:[a-z]{2,3}(?:-[a-z]{3}){0,3}|[a-z]{4,8})"  # language (+ extlang)
    r"(?:-[a-z]{4})?"  # script
    r"(?:-(?:[a-z]{2}|[0-9]{3}))?"  # region
    r"(?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*"  # variants
    r"(?:-[0-9a-wyz](?:-[a-z0-9]{2,8})+)*"  # extensions
    r"(?:-x(?:-[a-z0-9]{1,8})+)?"  # private use
)
_IRREGULAR = (
    "en-gb-oed|i-ami|i-bnn|i-default|i-enochian|i-hak|i-klingon|i-lux|i-mingo|i-navajo|i-pwn|i-tao"
    "|i-tay|i-tsu|sgn-be-fr|sgn-be-nl|sgn-ch-de"
)
LANG_RE: Final = re.compile(rf"{_LANGTAG}|x(?:-[a-z0-9]{{1,8}})+|{_IRREGULAR}", re.IGNORECASE | re.ASCII)
_MAX_INTEGER: Final = 2**53 - 1  # 2.10: integers fit a signed 54-bit value
_EXTENSION_TYPES: Final = frozenset(  # 10.5 extension-type-enum
    {"new-sdo", "new-sco", "new-sro", "property-extension", "toplevel-property-extension"}
)
_HASH_ALGORITHMS: Final = frozenset(  # 10.7 hash-algorithm-ov
    {"MD5", "SHA-1", "SHA-256", "SHA-512", "SHA3-256", "SHA3-512", "SSDEEP", "TLSH"}
)

def show(value: Any) -> str:
    """A value as it may appear in a message: repr, cut to 80 characters."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def wrong_type(name: str, expected: str, value: Any) -> Problem:
    return "property-type", f"{name} must be {expected}, not {show(value)}"


# --- one check per property kind ---------------------------------------------------------------


def _string(name: str, value: Any) -> Problem | None:
    return None if type(value) is str else wrong_type(name, "a string", value)


def _lang(name: str, value: Any) -> Problem | None:
    if type(value) is not str:
        return wrong_type(name, "a string", value)
    return None if LANG_RE.fullmatch(value) else ("lang-tag", f"{name} {show(value)} is not an RFC 5646 tag")


def _boolean(name: str, value: Any) -> Problem | None:
    return None if type(value) is bool else wrong_type(name, "true or false", value)


def _integer(name: str, value: Any) -> Problem | None:
    if type(value) is not int:
        return wrong_type(name, "an integer", value)
    if name == "confidence" and not 0 <= value <= 100:
        return "confidence-range", f"confidence {value} is outside 0-100"
    if not -_MAX_INTEGER <= value <= _MAX_INTEGER:
        return "integer-range", f"{name} {value} does not fit 54 bits"
    return None


def _float(name: str, value: Any) -> Problem | None:
    ok = type(value) is int or (type(value) is float and math.isfinite(value))
    return None if ok else wrong_type(name, "a finite number", value)


def _timestamp(name: str, value: Any) -> Problem | None:
    if type(value) is not str:
        return wrong_type(name, "a timestamp string", value)
    if not TIMESTAMP_RE.fullmatch(value):
        return "timestamp-format", f"{name} {show(value)} is not YYYY-MM-DDTHH:mm:ss[.s+]Z"
    return None


def _versioning_timestamp(name: str, value: Any) -> Problem | None:
    problem = _timestamp(name, value)
    if problem is None and len(value) < MILLISECONDS_LENGTH:
        return "timestamp-precision", f"{name} {value} is less precise than milliseconds"
    return problem


def _identifier(name: str, value: Any, of_type: str | None = None) -> Problem | None:
    if type(value) is not str:
        return wrong_type(name, "an identifier string", value)
    match = IDENTIFIER_RE.fullmatch(value)
    if match is None or not 3 <= len(match.group(1)) <= 250:
        return "identifier-ref", f"{name} {show(value)} is not <type>--<RFC 4122 UUID>"
    if of_type is not None and match.group(1) != of_type:
        return "identifier-ref", f"{name} {show(value)} does not refer to a {of_type}"
    return None


def _marking_ref(name: str, value: Any) -> Problem | None:
    return _identifier(name, value, "marking-definition")


def _list(name: str, value: Any, item: Check) -> Problem | None:
    if type(value) is not list:
        return wrong_type(name, "a list", value)
    if not value:
        return "empty-value", f"{name} is an empty list"
    for index, element in enumerate(value):
        problem = item(f"{name}[{index}]", element)
        if problem is not None:
            return problem
    return None


def _object(name: str, value: Any, fields: Mapping[str, Check]) -> Problem | None:
    if type(value) is not dict:
        return wrong_type(name, "an object", value)
    for field, check in fields.items():
        if field in value:
            problem = check(f"{name}.{field}", value[field])
            if problem is not None:
                return problem
    return None


def _hashes(name: str, value: Any) -> Problem | None:
    if type(value) is not dict:
        return wrong_type(name, "an object", value)
    if not value:
        return "empty-value", f"{name} is an empty dictionary"
    for key, digest in value.items():
        if not _HASH_KEY_RE.fullmatch(key):
            return "hashes", f"{name} key {show(key)} is not 3-250 of [a-zA-Z0-9_-]"
        if type(digest) is not str:
            return "hashes", f"{name}.{key} must be a string, not {show(digest)}"
    return None


def _reference_hashes(name: str, value: Any) -> Problem | None:
    problem = _hashes(name, value)
    if problem is None and not value.keys() <= _HASH_ALGORITHMS:
        return "hashes", f"{name} keys {sorted(value.keys() - _HASH_ALGORITHMS)} are not in hash-algorithm-ov"
    return problem


def _external_reference(name: str, value: Any) -> Problem | None:
    problem = _object(name, value, _EXTERNAL_REFERENCE_FIELDS)
    if problem is None:
        pattern = _EXTERNAL_ID_RE.get(value.get("source_name"))
        external_id = value.get("external_id")
        if pattern is not None and external_id is not None and not pattern.fullmatch(external_id):
            return "external-id", f"{name}: {value['source_name']} id {show(external_id)} is malformed"
    return problem


def _dictionary(name: str, value: Any) -> Problem | None:
    if type(value) is not dict:
        return wrong_type(name, "an object", value)
    return None if value else ("empty-value", f"{name} is an empty dictionary")


def _extensions(name: str, value: Any) -> Problem | None:
    """Keys name an extension definition or an "-ext" extension; extension-definition extensions
    say what they extend (extension_type), which stix2 does not require."""
    problem = _dictionary(name, value)
    if problem is not None:
        return problem
    for key, ext in value.items():
        by_definition = key.startswith("extension-definition--")
        if by_definition and _identifier(key, key, "extension-definition") is not None:
            return "extension", f"{name} key {show(key)} is not an extension-definition id"
        if not by_definition and not _EXTENSION_NAME_RE.fullmatch(key):
            return "extension", f"{name} key {show(key)} is neither an extension-definition id nor *-ext"
        if type(ext) is not dict:
            return wrong_type(f"{name}.{key}", "an object", ext)
        if not ext:
            return "extension", f"{name}.{key} has no properties"
        if by_definition and "extension_type" not in ext:
            return "extension", f"{name}.{key} has no extension_type"
        if "extension_type" in ext and ext["extension_type"] not in _EXTENSION_TYPES:
            return "extension", f"{name}.{key}.extension_type {show(ext['extension_type'])} is not allowed"
    return None


def _hex(name: str, value: Any) -> Problem | None:
    if type(value) is not str:
        return wrong_type(name, "a hex string", value)
    return None if _HEX_RE.fullmatch(value) else ("hex", f"{name} {show(value)} is not lower-case hex octets")


def _binary(name: str, value: Any) -> Problem | None:
    if type(value) is not str:
        return wrong_type(name, "a base64 string", value)
    return None if _BASE64_RE.fullmatch(value) else ("binary", f"{name} is not RFC 4648 base64")


_EXTERNAL_REFERENCE_FIELDS: Final = {
    "source_name": _string,
    "description": _string,
    "url": _string,
    "external_id": _string,
    "hashes": _reference_hashes,
}
_KILL_CHAIN_FIELDS: Final = {"kill_chain_name": _string, "phase_name": _string}
_GRANULAR_FIELDS: Final[dict[str, Check]] = {
    "lang": _lang,
    "marking_ref": _marking_ref,
    "selectors": lambda n, v: _list(n, v, _string),
}
CHECKS: Final[dict[str, Check]] = {
    "s": _string,
    "l": _lang,
    "b": _boolean,
    "i": _integer,
    "f": _float,
    "t": _timestamp,
    "c": _versioning_timestamp,
    "r": _identifier,
    "a": lambda n, v: _identifier(n, v, "identity"),
    "S": lambda n, v: _list(n, v, _string),
    "R": lambda n, v: _list(n, v, _identifier),
    "P": lambda n, v: _list(n, v, _marking_ref),
    "K": lambda n, v: _list(n, v, lambda n2, v2: _object(n2, v2, _KILL_CHAIN_FIELDS)),
    "E": lambda n, v: _list(n, v, _external_reference),
    "G": lambda n, v: _list(n, v, lambda n2, v2: _object(n2, v2, _GRANULAR_FIELDS)),
    "H": _hashes,
    "X": _extensions,
    "D": _dictionary,
    "h": _hex,
    "B": _binary,
    "M": lambda n, v: _object(n, v, {"tlp": _string, "statement": _string}),
    "O": lambda n, v: None,  # nested structures stix2 parses and type-checks itself
}
