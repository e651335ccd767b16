"""The object browser: search the objects the organisation may read by type, value, day added, collection
and TLP, and view one with its versions and the relationships and sightings on either side. Every query
is the REST API's (``store.reads.list_objects``, ``get_versions``, ``pointing_at``), built on
``sharing.access``, so the TLP and collection rules hold on the page exactly as on the API."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from exchange.core.deps import SessionDep, get_settings
from exchange.core.errors import BadRequest
from exchange.orgs.models import Org
from exchange.sharing import catalog
from exchange.stix.tlp import Tlp
from exchange.store import reads
from exchange.web.deps import SignedInDep
from exchange.web.render import page

router = APIRouter()
PAGE_SIZE = 50
RELATED = 50  # relationships and sightings shown on an object's page, newest first
# The kinds a blocklist export is offered in: what firewalls, resolvers and mail filters take.
BLOCKLIST_KINDS = ("domain", "ipv4", "ipv6", "url", "md5", "sha1", "sha256")
# The types a person searches for; the API takes any.
TYPES = ("indicator", "vulnerability", "malware", "report", "course-of-action", "threat-actor", "campaign",
         "attack-pattern", "sighting", "domain-name", "ipv4-addr", "url", "file")
Text = Annotated[str, Query(max_length=300, pattern=r"^[^\x00]*$")]
Kind = Annotated[str, Query(alias="type", max_length=250, pattern=r"^[a-z0-9-]*$")]
Day = Annotated[str, Query(max_length=10, pattern=r"^([0-9]{4}-[0-9]{2}-[0-9]{2})?$")]
CollectionId = Annotated[str, Query(max_length=100, pattern=r"^[0-9a-f-]*$")]
Level = Annotated[str, Query(pattern=f"^({'|'.join(re.escape(t.value) for t in Tlp)})?$")]


@dataclass(frozen=True, slots=True)
class View:
    """The object browser's filters, as the query string gives them: what the page lists and exactly what
    "export this view" writes (both read through ``reads.list_objects``)."""

    type: str = ""
    value: str = ""
    since: str = ""  # added on or after this day (UTC), YYYY-MM-DD
    collection: str = ""
    tlp: str = ""

    def filters(self, session: Session, reader: Org) -> dict[str, Any]:
        """``list_objects`` / ``count_objects`` / ``export.pages`` keyword arguments; a collection the reader
        may not read is a 404, as on TAXII."""
        found = None
        if self.collection:
            found, rights = catalog.get(session, reader, None, self.collection)
            catalog.require_read(rights, reader)
        return {"types": [self.type] if self.type else [], "value": self.value.strip() or None,
                "added_since": _day(self.since), "collection": found, "tlp": [self.tlp] if self.tlp else []}

    def query(self) -> str:
        """The view as a query string (for "more results" and the export links)."""
        return urlencode({k: v for k, v in (("type", self.type), ("value", self.value), ("since", self.since),
                                            ("collection", self.collection), ("tlp", self.tlp)) if v})


async def view(type_: Kind = "", value: Text = "", since: Day = "", collection: CollectionId = "",
               tlp: Level = "") -> View:
    _day(since)  # a day that does not exist (2026-02-30) is refused before anything is read
    return View(type_, value, since, collection, tlp)


ViewDep = Annotated[View, Depends(view)]


def _day(day: str) -> int | None:
    if not day:
        return None
    try:
        start = datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise BadRequest(f"{day!r} is not a day (YYYY-MM-DD)") from None
    return int(start.timestamp()) * 1_000_000


def _summary(raw: bytes | dict[str, Any]) -> dict[str, Any]:
    obj = orjson.loads(raw) if isinstance(raw, bytes) else raw
    return {"type": obj.get("type", ""), "name": obj.get("name") or obj.get("value") or obj.get("pattern") or ""}


@router.get("/objects")
def browse(request: Request, session: SessionDep, me: SignedInDep, shown: ViewDep,
           after: Annotated[str | None, Query(alias="next", max_length=200)] = None) -> Response:
    found = reads.list_objects(session, me.org, limit=PAGE_SIZE, next_token=after, **shown.filters(session, me.org))
    rows = [{"id": row.stix_id, "added": row.date_added, **_summary(row.raw)} for row in found.rows]
    collections = [c for _, c, r in catalog.everywhere(session, me.org) if r.can_read]
    return page(request, "objects.html", {"rows": rows, "types": TYPES, "view": shown, "next": found.next,
                                          "collections": collections, "levels": [t.value for t in Tlp],
                                          "blocklist_kinds": BLOCKLIST_KINDS,
                                          "export_max": get_settings(request).web_export_max_rows})


@router.get("/objects/{stix_id}")
def one_object(request: Request, session: SessionDep, me: SignedInDep,
               stix_id: Annotated[str, Path(max_length=300, pattern=r"^[a-z0-9-]+--[0-9a-f-]{36}$")]) -> Response:
    versions = reads.get_versions(session, me.org, stix_id, all_versions=True)
    latest = orjson.loads(versions[-1].raw)
    refs = sorted({v for k, v in latest.items() if k.endswith("_ref") and isinstance(v, str) and "--" in v}
                  | {r for k, v in latest.items() if k.endswith("_refs") and isinstance(v, list)
                     for r in v if isinstance(r, str) and "--" in r and not r.startswith("marking-definition--")})
    incoming = [{"id": rel["id"], **_summary(rel), **_relation(rel, stix_id)}
                for rel in reads.pointing_at(session, me.org, stix_id, limit=RELATED)]
    return page(request, "object.html", {
        "id": stix_id, "summary": _summary(versions[-1].raw), "versions": versions, "refs": refs,
        "incoming": incoming,
        "json": orjson.dumps(latest, option=orjson.OPT_INDENT_2).decode()})


def _relation(rel: dict[str, Any], stix_id: str) -> dict[str, str]:
    """How a relationship or sighting points at ``stix_id``: its verb and the object at its other end. The other
    end of a sighting *of* this object is who saw it (its first ``where_sighted_refs``)."""
    if rel.get("type") == "sighting":
        if rel.get("sighting_of_ref") != stix_id:
            return {"verb": "sighting-of", "other": str(rel.get("sighting_of_ref", ""))}
        where = rel.get("where_sighted_refs")
        return {"verb": "sighted-by", "other": str(where[0]) if isinstance(where, list) and where else ""}
    other = rel.get("source_ref") if rel.get("target_ref") == stix_id else rel.get("target_ref")
    return {"verb": str(rel.get("relationship_type", "")), "other": str(other or "")}
