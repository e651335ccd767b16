"""The object browser: search the objects the organisation may read by type and value, and view one with
its versions. Every query is the REST API's (``store.reads.list_objects`` and ``get_versions``), built
on ``sharing.access``, so the TLP and collection rules hold on the page exactly as on the API."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from exchange.core.deps import SessionDep, get_settings
from exchange.store import reads
from exchange.web.deps import SignedInDep
from exchange.web.render import page

router = APIRouter()
PAGE_SIZE = 50
# The types a person searches for; the API takes any.
# The kinds a blocklist export is offered in: what firewalls, resolvers and mail filters take.
BLOCKLIST_KINDS = ("domain", "ipv4", "ipv6", "url", "md5", "sha1", "sha256")
TYPES = ("indicator", "vulnerability", "malware", "report", "course-of-action", "threat-actor", "campaign",
         "attack-pattern", "sighting", "domain-name", "ipv4-addr", "url", "file")
Text = Annotated[str, Query(max_length=300, pattern=r"^[^\x00]*$")]
Kind = Annotated[str, Query(alias="type", max_length=250, pattern=r"^[a-z0-9-]*$")]


def search(type_: str, value: str) -> tuple[list[str], str | None]:
    """The view's filters as ``list_objects`` takes them: the browser and its exports read the same view."""
    return ([type_] if type_ else []), (value.strip() or None)


def _summary(raw: bytes) -> dict[str, Any]:
    obj = orjson.loads(raw)
    return {"type": obj.get("type", ""), "name": obj.get("name") or obj.get("value") or obj.get("pattern") or ""}


@router.get("/objects")
def browse(request: Request, session: SessionDep, me: SignedInDep, type_: Kind = "", value: Text = "",
           after: Annotated[str | None, Query(alias="next", max_length=200)] = None) -> Response:
    types, wanted = search(type_, value)
    found = reads.list_objects(session, me.org, limit=PAGE_SIZE, next_token=after, types=types, value=wanted)
    rows = [{"id": row.stix_id, "added": row.date_added, **_summary(row.raw)} for row in found.rows]
    return page(request, "objects.html", {"rows": rows, "types": TYPES, "type": type_, "value": value,
                                          "next": found.next, "blocklist_kinds": BLOCKLIST_KINDS,
                                          "export_max": get_settings(request).web_export_max_rows})


@router.get("/objects/{stix_id}")
def one_object(request: Request, session: SessionDep, me: SignedInDep,
               stix_id: Annotated[str, Path(max_length=300, pattern=r"^[a-z0-9-]+--[0-9a-f-]{36}$")]) -> Response:
    versions = reads.get_versions(session, me.org, stix_id, all_versions=True)
    latest = orjson.loads(versions[-1].raw)
    refs = sorted({v for k, v in latest.items() if k.endswith("_ref") and isinstance(v, str) and "--" in v}
                  | {r for k, v in latest.items() if k.endswith("_refs") and isinstance(v, list)
                     for r in v if isinstance(r, str) and "--" in r and not r.startswith("marking-definition--")})
    return page(request, "object.html", {
        "id": stix_id, "summary": _summary(versions[-1].raw), "versions": versions, "refs": refs,
        "json": orjson.dumps(latest, option=orjson.OPT_INDENT_2).decode()})
