"""The parts the mutation table is built from: which objects a mutation applies to (predicates
``Obj -> bool``) and what it changes (``(Obj, Gen) -> None``, or a value maker ``(Obj, Gen) -> Any``).

The names are short and private-looking so that ``MUTATIONS`` in :mod:`tests.stix.corpus.mutations`
reads as one line per mutation.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from tests.stix.corpus.gen import TLP1, TLP2_EXTENSION, Gen, Obj
from tests.stix.corpus.valid import SCO_TYPES

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
GREEN: str = TLP1["green"]["id"]
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
    return bool(o["type"] == "indicator" and o["pattern_type"] == "stix")


def _set(**values: Any) -> Callable[[Obj, Gen], None]:
    def apply(o: Obj, g: Gen) -> None:
        o.update(copy.deepcopy(values))

    return apply


def _drop(*keys: str) -> Callable[[Obj, Gen], None]:
    def apply(o: Obj, g: Gen) -> None:
        for key in keys:
            o.pop(key, None)

    return apply


def _with(key: str, make: Callable[[Obj, Gen], Any]) -> Callable[[Obj, Gen], None]:
    def apply(o: Obj, g: Gen) -> None:
        o[key] = make(o, g)

    return apply


def _add(make_name: Callable[[Obj, Gen], str], value: Any) -> Callable[[Obj, Gen], None]:
    def apply(o: Obj, g: Gen) -> None:
        o[make_name(o, g)] = value

    return apply


def _extension(content: Obj) -> Callable[[Obj, Gen], None]:
    return _with("extensions", lambda o, g: {g.id4("extension-definition"): copy.deepcopy(content)})


def _external_id(*values: str) -> Callable[[Obj, Gen], None]:
    def apply(o: Obj, g: Gen) -> None:
        o["external_references"][0]["external_id"] = g.rng.choice(values)

    return apply


def _aliased_hash_reference(o: Obj, g: Gen) -> list[Obj]:
    """stix2 maps "sha256" to "SHA-256"; 2.5 wants the hash-algorithm-ov name itself."""
    return [{"source_name": "acme", "url": "https://acme.example/r", "hashes": {"sha256": g.hexdigest(64)}}]


def _enc_alone(o: Obj, g: Gen) -> None:
    o.pop("name", None)
    o["name_enc"] = "windows-1252"


def _object_ref_form(o: Obj, g: Gen) -> list[str]:
    return [_ref_form(o["object_refs"][0], g, any_type=True)]


def _drop_required(o: Obj, g: Gen) -> None:
    if o["type"] == "file":
        o.pop("hashes")
        o.pop("name", None)
    else:
        o.pop(g.rng.choice(REQUIRED[o["type"]]))


def _id_variant(version: str) -> Callable[[Obj, Gen], None]:
    def apply(o: Obj, g: Gen) -> None:
        prefix, u = o["id"].split("--")
        o["id"] = f"{prefix}--{u[:14]}{version}{u[15:]}"

    return apply


def _loose_time(key: str) -> Callable[[Obj, Gen], None]:
    """A time strptime accepts but 2.16 does not: single-digit fields or lower-case t/z."""

    def apply(o: Obj, g: Gen) -> None:
        o[key] = "2024-1-1T0:0:0Z" if g.rng.random() < 0.5 else o[key].replace("T", "t").replace("Z", "z")

    return apply


def _seconds_only(o: Obj, g: Gen) -> None:
    same = o["modified"] == o["created"]
    o["created"] = o["created"][:19] + g.rng.choice(("Z", ".5Z", ".12Z"))
    if same:
        o["modified"] = o["created"]


def _uuid_form(o: Obj, g: Gen) -> str:
    prefix, u = o["id"].split("--")
    return g.rng.choice((f"{prefix}--{{{u}}}", f"{prefix}--urn:uuid:{u}", f"{prefix}--{u.replace('-', '')}"))


def _ref_form(ref: str, g: Gen, any_type: bool = False) -> str:
    """The UUID in a notation uuid.UUID parses; where any type may be referenced, a bad type too."""
    prefix, u = ref.split("--")
    forms = [f"{prefix}--{{{u}}}", f"{prefix}--{u.replace('-', '')}", f"{prefix}--urn:uuid:{u}"]
    if any_type:
        forms += [f"{prefix.title()}--{u}", f"--{u}", f"x y--{u}"]
    return g.rng.choice(forms)


def _toplevel_bad_name(o: Obj, g: Gen) -> None:
    """With a top-level property extension stix2 stops checking property names altogether."""
    o["extensions"] = {g.id4("extension-definition"): {"extension_type": "toplevel-property-extension"}}
    o[g.rng.choice(("_hidden", "1st_seen", "Score"))] = 1


def _tlp_tamper(o: Obj, g: Gen) -> None:
    g.rng.choice((lambda: o.update(name=o["name"].title()), lambda: o.pop("name"), lambda: o.update(x_acme=1),
                  lambda: o.update(created_by_ref=g.identities[0])))()  # fmt: skip


def _pick(*values: Any) -> Callable[[Obj, Gen], Any]:
    return lambda o, g: copy.deepcopy(g.rng.choice(values))
