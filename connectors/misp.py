"""MISP feeds (the "feed" format MISP instances and many CSIRTs publish: ``manifest.json`` naming each
event with its timestamp, and one ``<uuid>.json`` per event), converted with ``misp-stix`` (MISP →
STIX 2.1). The URL is the feed's folder.

Incremental by event timestamp: a run reads the manifest, then only the events newer than the
bookmark, oldest first, one page per event. The bookmark moves past a timestamp only once every
event carrying it is stored, so a run cut off between two events of the same second re-reads,
never skips. Needed: each manifest entry's ``timestamp``, each event file's ``Event``.

TLP: an event's ``tlp:*`` tag (the strictest) marks every object of it that carries no TLP of its
own; without a tag its ``distribution`` decides: 0 (this organisation only) → AMBER+STRICT, 1 (this
community) and 4 (a sharing group) → AMBER, 2 and 3 (connected communities, all) → GREEN. misp-stix
turns attributes flagged ``to_ids`` into indicators and the others into ``observed-data`` only, so
``to_ids: false`` never becomes an indicator.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urljoin

import orjson

from connectors.base import FeedError, Http, Page, Source, mark_unmarked, required
from exchange.stix import tlp

_DISTRIBUTION = {"0": tlp.Tlp.amber_strict, "1": tlp.Tlp.amber, "2": tlp.Tlp.green, "3": tlp.Tlp.green,
                 "4": tlp.Tlp.amber}


def _json(body: bytes, what: str) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise FeedError(f"{what}: not JSON ({exc})") from None


def event_level(event: Mapping[str, Any]) -> tlp.Tlp | None:
    """The event's TLP: its strictest ``tlp:`` tag, else what its distribution allows."""
    levels = []
    for tag in event.get("Tag") or ():
        name = str(tag.get("name", "")).strip().lower() if isinstance(tag, dict) else ""
        if name.startswith("tlp:"):
            try:
                levels.append(tlp.parse(name))
            except ValueError:
                continue
    if levels:
        return max(levels, key=lambda level: level.rank)
    return _DISTRIBUTION.get(str(event.get("distribution", "")))


def convert(event: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One MISP event → STIX 2.1 objects (misp-stix), each marked with the event's TLP unless it has its own."""
    from misp_stix_converter import MISPtoSTIX21Parser  # heavy (STIX 1 too): loaded when a MISP feed runs

    parser = MISPtoSTIX21Parser()
    parser.parse_json_content({"Event": dict(event)})
    objects = [orjson.loads(o.serialize()) if hasattr(o, "serialize") else dict(o) for o in parser.stix_objects]
    return mark_unmarked(objects, event_level(event))


class MispFeed:
    def snapshot(self, source: Source) -> bool:
        return False

    def pages(self, source: Source, bookmark: Mapping[str, Any]) -> Iterator[Page]:
        base = source.url if source.url.endswith("/") else f"{source.url}/"
        since = int(bookmark.get("timestamp", 0))
        with Http(source) as http:
            manifest = _json(http.get(urljoin(base, "manifest.json")).content, "manifest.json")
            if not isinstance(manifest, dict):
                raise FeedError("manifest.json: expected an object of events by uuid")
            events = []
            for uuid, entry in manifest.items():
                required(entry if isinstance(entry, dict) else {}, ("timestamp",), f"manifest.json event {uuid}")
                events.append((int(entry["timestamp"]), str(uuid)))
            events = sorted(e for e in events if e[0] > since)
            for i, (stamp, uuid) in enumerate(events):
                document = _json(http.get(urljoin(base, f"{uuid}.json")).content, f"{uuid}.json")
                required(document if isinstance(document, dict) else {}, ("Event",), f"{uuid}.json")
                # past this second only once its last event is stored
                done = i + 1 == len(events) or events[i + 1][0] > stamp
                yield Page(convert(document["Event"]), {"timestamp": stamp if done else since}, 1)
                if done:
                    since = stamp
