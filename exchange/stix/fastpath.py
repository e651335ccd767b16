"""Accept-only fast path for the object most feeds are made of: a plain indicator.

``stix2.parse`` manages about a thousand objects a second; a hub ingesting feeds needs tens of
thousands. This module proves an object valid with a handful of exact checks when — and only
when — it has the common shape; for anything else it answers "not mine" and the full validation
(``strict`` rules, then stix2 itself) decides. It never rejects, so it cannot disagree with stix2
about an invalid object; the differential test (tests/stix/test_differential.py) checks that
everything it accepts, stix2 and the stricter rules accept too.
"""

from __future__ import annotations

import re
from typing import Any

from exchange.core.timestamps import MILLISECONDS_LENGTH, to_micros
from exchange.stix.patterns.errors import PatternError
from exchange.stix.patterns.validate import checked
from exchange.stix.strict_props import UUID

# Canonical ids only: an upper-case one is for the hub's case rule to refuse (hub_rules).
_INDICATOR_ID = re.compile(rf"indicator--{UUID}\Z")
_IDENTITY_REF = re.compile(rf"identity--{UUID}\Z")
_MARKING_REF = re.compile(rf"marking-definition--{UUID}\Z")
_CUSTOM_NAME = re.compile(r"x_[a-z0-9_]{1,248}\Z")

def _string(value: Any) -> bool:
    return type(value) is str


def _string_list(value: Any) -> bool:
    return type(value) is list and bool(value) and all(type(v) is str and v for v in value)


def _confidence(value: Any) -> bool:
    return type(value) is int and 0 <= value <= 100


def _boolean(value: Any) -> bool:
    return type(value) is bool


def _identity_ref(value: Any) -> bool:
    return _IDENTITY_REF.match(value) is not None


def _marking_refs(value: Any) -> bool:
    return type(value) is list and bool(value) and all(_MARKING_REF.match(v) for v in value)


def _kill_chain_phases(value: Any) -> bool:
    return type(value) is list and bool(value) and all(_kill_chain_phase(p) for p in value)


def _checked(value: Any) -> bool:
    """Type, spec_version, id, timestamps and pattern: checked before the properties are walked."""
    return True


# The rule for each property the fast path knows (`lang` has its own rule, RFC 5646: not fast).
# One dictionary look-up per property, not a chain of membership tests: this runs for every object.
_RULES = {
    **dict.fromkeys(("type", "spec_version", "id", "created", "modified", "pattern", "pattern_type",
                     "pattern_version", "valid_from", "valid_until"), _checked),
    "name": _string,
    "description": _string,
    "indicator_types": _string_list,
    "labels": _string_list,
    "confidence": _confidence,
    "revoked": _boolean,
    "created_by_ref": _identity_ref,
    "object_marking_refs": _marking_refs,
    "kill_chain_phases": _kill_chain_phases,
}


def accepts(obj: dict[str, Any]) -> bool:
    """True only when ``obj`` is certainly a valid indicator; False means "decide elsewhere".

    Its ids are matched in lower case only (and custom ``_ref``/``_refs`` values without capitals),
    so what it accepts also meets the hub's identifier-case rule and skips that walk."""
    try:
        return obj["type"] == "indicator" and _indicator(obj)
    except (KeyError, TypeError):
        return False


def _indicator(obj: dict[str, Any]) -> bool:
    if obj["spec_version"] != "2.1" or obj["pattern_type"] != "stix":
        return False
    if _INDICATOR_ID.match(obj["id"]) is None:
        return False
    if not _times_ok(obj) or not _pattern_ok(obj["pattern"], obj.get("pattern_version", "2.1")):
        return False
    for key, value in obj.items():
        rule = _RULES.get(key)
        if rule is None:
            if not (_CUSTOM_NAME.match(key) and _plain_value(value)):
                return False
            if key.endswith(("_ref", "_refs")) and not _lower_case(value):
                return False  # an identifier in upper case: the hub's case rule decides (hub_rules)
        elif rule is not _checked and not rule(value):
            return False
    return True


def _times_ok(obj: dict[str, Any]) -> bool:
    created, modified, valid_from = obj["created"], obj["modified"], obj["valid_from"]
    if len(created) < MILLISECONDS_LENGTH or len(modified) < MILLISECONDS_LENGTH:  # to_micros checks the rest
        return False
    c, m, vf = to_micros(created), to_micros(modified), to_micros(valid_from)
    if c is None or m is None or vf is None or m < c:
        return False
    if "valid_until" in obj:
        vu = to_micros(obj["valid_until"])
        return vu is not None and vu > vf
    return True


def _pattern_ok(pattern: Any, version: object) -> bool:
    """A STIX 2.1 pattern the engine accepts (its verdict is the oracle's: decision 0009); one it
    refuses leaves the object to the strict rules, which say why."""
    if version != "2.1" or type(pattern) is not str:
        return False
    try:
        checked(pattern)
    except PatternError:
        return False
    return True


def _kill_chain_phase(phase: Any) -> bool:
    return (
        type(phase) is dict
        and phase.keys() == {"kill_chain_name", "phase_name"}
        and all(type(v) is str and v for v in phase.values())
    )


def _lower_case(value: str | list[str]) -> bool:
    """A custom reference without upper-case letters: ids the hub would compare as they are."""
    if type(value) is str:
        return value == value.lower()
    return all(v == v.lower() for v in value)


def _plain_value(value: Any) -> bool:
    """Custom properties the fast path takes as they are: scalars and lists of strings."""
    if type(value) in (str, int, float, bool):
        return True
    return type(value) is list and bool(value) and all(type(v) is str for v in value)
