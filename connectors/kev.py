"""Vulnerability catalogues in the shape of CISA's Known Exploited Vulnerabilities (KEV) JSON: each
entry → a STIX ``vulnerability`` (named by its CVE, with the CVE external reference; vendor and
product in ``x_exchange_affected`` and ``x_exchange_exploited: true``, the conventions alert matching
reads (decision 0011), so SME software inventories match them)
and a ``course-of-action`` for the required action, linked by a ``mitigates`` relationship.

Fields needed: cveID, vendorProject, product, vulnerabilityName, dateAdded, requiredAction (the run
fails, naming them, if the catalogue loses one); shortDescription, dueDate and
knownRansomwareCampaignUse are kept when present. Ids are UUIDv5 of the feed and the CVE, versions
the entry's ``dateAdded``: a catalogue read again stores nothing new. Bookmark: ETag/Last-Modified.
The catalogue is one JSON document; it is read whole (KEV is about 1 MB), and stored in pages.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Any

import orjson

from connectors.base import FeedError, Http, Page, Source, conditional, required, validators
from exchange.assets.normalise import cpe_word

NEEDED = ("cveID", "vendorProject", "product", "vulnerabilityName", "dateAdded", "requiredAction")
DEFAULT_PAGE_SIZE = 500


def _day(text: str, cve: str) -> str:
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise FeedError(f"{cve}: dateAdded {text[:40]!r} is not a date (YYYY-MM-DD)") from None
    return f"{day.isoformat()}T00:00:00.000Z"


def convert(source: Source, entry: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One catalogue entry → vulnerability, course-of-action and the relationship between them."""
    required(entry, NEEDED, "KEV entry")
    cve = str(entry["cveID"])
    when = _day(str(entry["dateAdded"]), cve)
    common = {"spec_version": "2.1", "created": when, "modified": when}
    vulnerability: dict[str, Any] = {
        "type": "vulnerability", "id": source.derived_id("vulnerability", cve), **common,
        "name": cve, "description": str(entry.get("shortDescription") or entry["vulnerabilityName"]),
        "external_references": [{"source_name": "cve", "external_id": cve}],
        "x_exchange_affected": [{"vendor": cpe_word(entry["vendorProject"]), "product": cpe_word(entry["product"])}],
        "x_exchange_exploited": True,
    }
    if entry.get("knownRansomwareCampaignUse"):
        vulnerability["x_exchange_ransomware_use"] = str(entry["knownRansomwareCampaignUse"])
    action: dict[str, Any] = {
        "type": "course-of-action", "id": source.derived_id("course-of-action", cve), **common,
        "name": f"{cve}: {entry['vulnerabilityName']}"[:250], "description": str(entry["requiredAction"]),
    }
    if entry.get("dueDate"):
        action["x_exchange_due_date"] = str(entry["dueDate"])
    link = {"type": "relationship", "id": source.derived_id("relationship", f"{cve} mitigates"), **common,
            "relationship_type": "mitigates", "source_ref": action["id"], "target_ref": vulnerability["id"]}
    return [vulnerability, action, link]


class Kev:
    def snapshot(self, source: Source) -> bool:
        return False

    def pages(self, source: Source, bookmark: Mapping[str, Any]) -> Iterator[Page]:
        with Http(source) as http:
            response = http.get(source.url, conditional(bookmark))
            if response.status_code == 304:
                return
            try:
                catalogue = orjson.loads(response.content)
            except orjson.JSONDecodeError as exc:
                raise FeedError(f"{source.url}: not JSON ({exc})") from None
            if not isinstance(catalogue, dict):
                raise FeedError(f"{source.url}: expected a catalogue object with 'vulnerabilities'")
            required(catalogue, ("vulnerabilities",), "KEV catalogue")
            entries = catalogue["vulnerabilities"]
            size = int(source.option("page_size", DEFAULT_PAGE_SIZE))
            for start in range(0, max(len(entries), 1), size):
                chunk = entries[start:start + size]
                objects = [o for entry in chunk for o in convert(source, entry)]
                last = start + size >= len(entries)
                yield Page(objects, validators(response) if last else dict(bookmark), len(chunk))
