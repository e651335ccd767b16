"""The hub's own write rules: what a valid STIX object must also satisfy before the hub stores it.

These are not STIX validity (``validate`` answers that, with stix2's verdicts) but what the read
rules rely on. Each read rule keys on a property compared as text — the TLP level on the marking
ids, authorship on ``created_by_ref``, recipients on identity ids — so anything that would make
such a comparison miss fails *open* (an object read at the collection default, a forged author).
Every rule here therefore refuses rather than guesses; the rejections carry source ``"hub"`` so the
differential test against stix2 (which accepts all of these) stays about validation alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final

from exchange.stix import tlp
from exchange.stix.strict_props import UUID
from exchange.stix.validate import Rejection

RECIPIENTS_PROPERTY: Final = "x_exchange_recipients"
_IDENTITY_ID: Final = re.compile(rf"identity--{UUID}")
# Anything shaped like a STIX identifier in either case: what the case rule looks at.
_ID_LIKE: Final = re.compile(rf"[a-z][a-z0-9-]*--{UUID}", re.IGNORECASE)


def container_problem(obj: Any) -> Rejection | None:
    """A bundle is a transport wrapper, not a STIX object (STIX 2.1, 8): stored as an object, the
    objects inside it would reach readers without any write rule or TLP applied to them."""
    if type(obj) is dict and obj.get("type") == "bundle":
        return Rejection("hub", "type", "a bundle is not a STIX object; post its objects instead")
    return None


def id_case_problem(obj: dict[str, Any]) -> Rejection | None:
    """Identifiers must be canonical (lower-case hex), the form every rule compares them in.

    RFC 4122 lets a reader accept upper-case UUIDs, so stix2 does; but the hub matches ids as text
    (a TLP marking, the author, a recipient), and an upper-case copy of a known id would simply not
    match: TLP:RED read as unmarked, another member's identity taken for a stranger's. Refusing is
    cheaper and safer than normalising every comparison. Checked: ``id``, every ``*_ref`` and
    ``*_refs`` property at any depth (``marking_ref`` of granular markings, references inside
    extensions), and the recipients list.
    """
    oid = obj.get("id")
    if type(oid) is str and oid != oid.lower():
        return _not_canonical("id", oid)
    named = obj.get(RECIPIENTS_PROPERTY)
    if type(named) is list:
        for value in named:
            if type(value) is str and value != value.lower():
                return _not_canonical(RECIPIENTS_PROPERTY, value)
    return _refs_problem(obj)


def _refs_problem(node: Any) -> Rejection | None:
    if type(node) is list:
        for item in node:
            found = _refs_problem(item)
            if found is not None:
                return found
        return None
    if type(node) is not dict:
        return None
    for key, value in node.items():
        if type(key) is str and key.endswith(("_ref", "_refs")):
            for ref in value if type(value) is list else (value,):
                if type(ref) is str and ref != ref.lower() and _ID_LIKE.fullmatch(ref):
                    return _not_canonical(key, ref)
        if type(value) in (dict, list):
            found = _refs_problem(value)
            if found is not None:
                return found
    return None


def _not_canonical(name: str, value: str) -> Rejection:
    return Rejection("hub", "identifier-case", f"{name} {value[:120]} is not canonical: write STIX identifiers in "
                     f"lower case ({value[:120].lower()}); the hub compares them exactly")


def tlp_definition_problem(obj: dict[str, Any]) -> Rejection | None:
    """A standard TLP id (1.0 or 2.0) may carry only the OASIS definition it names, whatever the
    ``definition_type``: downstream tools resolve markings by id, so "TLP:RED" content of its own
    under the TLP:CLEAR id (or the reverse) would change what readers are told they may share."""
    canonical = tlp.DEFINITIONS.get(obj["id"])  # valid by now: the id is a string
    if canonical is not None and obj != canonical:
        return Rejection("hub", "tlp-definition", f"{obj['id']} is the standard {canonical['name']} marking "
                         "definition: only its OASIS content may be posted under this id")
    return None


@dataclass(frozen=True, slots=True)
class Author:
    """Whom a publishing organisation may name as ``created_by_ref``: its own ``identity``; and, for a
    relayer (csirt and isac organisations, and the feeds they own), any identity that is not one of
    the hub's other ``members`` — the original author of a relayed object (decision 0003)."""

    identity: str
    relays: bool = False
    members: frozenset[str] = frozenset()


def authorship(obj: dict[str, Any], author: Author | None) -> Rejection | None:
    """With ``author``, every object that names an author must name one it may — SDOs and SROs, but
    also custom objects without ``created``, SCOs and marking definitions, which could otherwise
    present another member's statements. An object without ``created_by_ref`` is allowed; SDOs and
    SROs (those with ``created``, marking definitions aside) then get the publisher's identity filled
    in, so the stored JSON names it."""
    if author is None:
        return None
    ref = obj.get("created_by_ref")
    if ref is None:
        if "created" in obj and obj["type"] != "marking-definition":
            obj["created_by_ref"] = author.identity
        return None
    if ref == author.identity:
        return None
    if author.relays and ref not in author.members:
        return None
    if author.relays:
        return Rejection("hub", "created_by_ref", f"{str(ref)[:120]} is another member organisation's identity; "
                         "a member organisation publishes only as itself (relaying keeps only a non-member's "
                         "authorship)")
    return Rejection("hub", "created_by_ref", f"{str(ref)[:120]} is not the publishing organisation's identity "
                     f"({author.identity}); an organisation publishes only as itself")


def recipients_form(obj: dict[str, Any]) -> Rejection | None:
    named = obj.get(RECIPIENTS_PROPERTY)
    if named is None:
        return None
    if not isinstance(named, list) or not all(isinstance(n, str) and _IDENTITY_ID.fullmatch(n) for n in named):
        return Rejection("hub", RECIPIENTS_PROPERTY,
                         "a list of the recipient organisations' identity ids (identity--<uuid>)")
    return None
