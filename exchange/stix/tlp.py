"""Traffic Light Protocol: read TLP 1.0 and 2.0 marking definitions into one ordered level.

Only the standard marking-definition ids count: a producer cannot invent a "TLP:CLEAR" marking of
its own and widen who reads its data. An object carrying several TLP markings (object-level or
granular) takes the strictest, so a reader never sees more than the tightest marking allows.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable


class Tlp(enum.StrEnum):
    clear = "clear"  # TLP 1.0 WHITE is the same level
    green = "green"
    amber = "amber"
    amber_strict = "amber+strict"
    red = "red"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {level: i for i, level in enumerate(Tlp)}

_TLP1 = (  # STIX 2.1 specification, section 7.2.1.4: the only valid TLP 1.0 marking definitions
    ("white", "613f2e26-407d-48c7-9eca-b8e91df99dc9", Tlp.clear),
    ("green", "34098fce-860f-48ae-8e50-ebd3cc5e41da", Tlp.green),
    ("amber", "f88d31f6-486f-44da-b317-01333bde0b82", Tlp.amber),
    ("red", "5e57c739-391a-4eb3-b6be-7d15ca92d5ed", Tlp.red),
)

# The four TLP 1.0 marking-definition objects, exactly as the specification gives them.
TLP1_DEFINITIONS: dict[str, dict[str, object]] = {
    f"marking-definition--{uuid}": {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": f"marking-definition--{uuid}",
        "created": "2017-01-20T00:00:00.000Z",
        "definition_type": "tlp",
        "name": f"TLP:{colour.upper()}",
        "definition": {"tlp": colour},
    }
    for colour, uuid, _ in _TLP1
}

_TLP2 = (  # OASIS extension-definition--60a3c5c5-… (TLP 2.0 marking definitions), cti-stix-common-objects
    ("clear", "94868c89-83c2-464b-929b-a1a8aa3c8487", Tlp.clear),
    ("green", "bab4a63c-aed9-4cf5-a766-dfca5abac2bb", Tlp.green),
    ("amber", "55d920b0-5e8b-4f79-9ee9-91f868d9b421", Tlp.amber),
    ("amber+strict", "939a9414-2ddd-4d32-a0cd-375ea402b003", Tlp.amber_strict),
    ("red", "e828b379-4e03-4974-9ac4-e53a884c97c1", Tlp.red),
)
TLP2_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"

# The five TLP 2.0 marking-definition objects, exactly as OASIS publishes them.
TLP2_DEFINITIONS: dict[str, dict[str, object]] = {
    f"marking-definition--{uuid}": {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": f"marking-definition--{uuid}",
        "created": "2022-10-01T00:00:00.000Z",
        "name": f"TLP:{colour.upper()}",
        "extensions": {TLP2_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": colour}},
    }
    for colour, uuid, _ in _TLP2
}

# Every standard TLP marking definition by id: the only content those ids may carry.
DEFINITIONS: dict[str, dict[str, object]] = {**TLP1_DEFINITIONS, **TLP2_DEFINITIONS}

MARKING_LEVELS: dict[str, Tlp] = {f"marking-definition--{uuid}": level for _, uuid, level in _TLP1 + _TLP2}


def strictest(refs: Iterable[str]) -> Tlp | None:
    """The strictest TLP level among marking refs, or None when none of them is a TLP marking."""
    found: Tlp | None = None
    for ref in refs:
        level = MARKING_LEVELS.get(ref)
        if level is not None and (found is None or level.rank > found.rank):
            found = level
    return found


def marked_level(obj: dict[str, object]) -> Tlp | None:
    """TLP of a STIX object from its object-level and granular markings; None when it has none."""
    refs: list[str] = []
    markings = obj.get("object_marking_refs")
    if isinstance(markings, list):
        refs.extend(r for r in markings if isinstance(r, str))
    granular = obj.get("granular_markings")
    if isinstance(granular, list):
        refs.extend(
            g["marking_ref"] for g in granular if isinstance(g, dict) and isinstance(g.get("marking_ref"), str)
        )
    return strictest(refs)


def parse(value: str) -> Tlp:
    """Accept the spellings people type: 'white', 'TLP:AMBER+STRICT', 'amber_strict'."""
    key = value.strip().lower().removeprefix("tlp:").replace("_", "+")
    if key == "white":
        return Tlp.clear
    return Tlp(key)
