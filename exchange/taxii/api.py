"""TAXII 2.1 endpoints. Each handler parses, authorises, calls ``exchange.stix`` and serialises.

Every route answers with and without its trailing slash (clients differ, and a redirect would
lose a POST body). Object JSON is spliced in as stored: no re-parsing on the read path.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from exchange.core.deps import SessionDep, request_body
from exchange.core.errors import NotFound
from exchange.core.media import STIX, TAXII
from exchange.core.timestamps import from_micros, now_micros
from exchange.orgs import audit
from exchange.orgs.auth import MaybeOrg, MaybePrincipal, Writer, optional_principal
from exchange.sharing import catalog
from exchange.stix.prepare import envelope_objects
from exchange.store import reads
from exchange.store.ingest import ingest
from exchange.store.models import ApiRoot, Collection
from exchange.taxii import ingest_queue, params, status
from exchange.taxii.media import TAXII_ERRORS, TaxiiResponse, negotiate, require_taxii_body

# Every endpoint resolves the caller: anonymous clients are welcome where a collection is public,
# but wrong credentials are a 401 everywhere, never a silent downgrade to anonymous.
router = APIRouter(prefix="/taxii2", tags=["taxii"], dependencies=[Depends(negotiate), Depends(optional_principal)],
                   default_response_class=TaxiiResponse, responses=TAXII_ERRORS)


# The body of Add Objects (TAXII 2.1, 5.5), documented because the handler reads the raw bytes.
ENVELOPE = {"type": "object", "required": ["objects"], "properties": {
    "more": {"type": "boolean"}, "next": {"type": "string"},
    "objects": {"type": "array", "items": {"type": "object", "required": ["type", "id"]},
                "description": "STIX 2.1 objects; each is validated and answered for in the status"}}}


def route(method: str, path: str, *, query: Sequence[str] = (), envelope: bool = False,
          **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register ``path`` with and without the trailing slash; document its TAXII ``query`` parameters
    and, with ``envelope``, its body."""

    success = kwargs.get("status_code", 200)
    kwargs["responses"] = {success: {"description": "TAXII 2.1 JSON",
                                     "content": {TAXII: {"schema": {"type": "object"}}}}}
    extra: dict[str, Any] = {"parameters": params.documented(*query)} if query else {}
    if envelope:
        extra["requestBody"] = {"required": True, "content": {TAXII: {"schema": ENVELOPE}}}
    if extra:
        kwargs["openapi_extra"] = extra

    def register(handler: Callable[..., Any]) -> Callable[..., Any]:
        router.add_api_route(path, handler, methods=[method], **kwargs)
        router.add_api_route(path.rstrip("/"), handler, methods=[method], include_in_schema=False, **kwargs)
        return handler

    return register


def _json(payload: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> TaxiiResponse:
    return TaxiiResponse(orjson.dumps(payload), status_code=status_code, headers=headers)


def _date_headers(rows: Sequence[reads.PageRow]) -> dict[str, str]:
    if not rows:
        return {}
    return {"X-TAXII-Date-Added-First": from_micros(rows[0].date_added),
            "X-TAXII-Date-Added-Last": from_micros(rows[-1].date_added)}


def _version(row: reads.PageRow) -> str:
    return from_micros(row.modified or row.date_added)


def _page_size(request: Request) -> int:
    settings = request.app.state.settings
    return params.limit(request, settings.default_page_size, settings.max_page_size)


def _collection(session: SessionDep, org: MaybeOrg, api_root: str, collection_id: str,
                ) -> tuple[ApiRoot, Collection, catalog.Rights]:
    root = catalog.get_api_root(session, api_root)
    collection, rights = catalog.get(session, org, root, collection_id)
    return root, collection, rights


def _collection_json(collection: Collection, rights: catalog.Rights) -> dict[str, Any]:
    return {"id": collection.id, "title": collection.title, "description": collection.description,
            "can_read": rights.can_read, "can_write": rights.can_write, "media_types": [STIX]}


@route("GET", "/", summary="Discovery (TAXII 2.1, 4.1)")
def discovery(request: Request, session: SessionDep) -> Response:
    base = request.app.state.settings.base_url  # never the Host header: a client must not choose our URLs
    roots = [catalog.api_root_url(base, root) for root in catalog.api_roots(session)]
    body: dict[str, Any] = {"title": "Exchange", "description": "Threat-information exchange (TAXII 2.1)",
                            "api_roots": roots}
    if roots:
        body["default"] = roots[0]
    return _json(body)


@route("GET", "/{api_root}/", summary="API root information (4.2)")
def api_root_information(request: Request, session: SessionDep, api_root: str) -> Response:
    root = catalog.get_api_root(session, api_root)
    return _json({"title": root.title, "description": root.description, "versions": [
        "application/taxii+json;version=2.1"], "max_content_length": request.app.state.settings.max_body_bytes})


@route("GET", "/{api_root}/status/{status_id}/", summary="Status of a POST (4.3)")
def get_status(session: SessionDep, caller: MaybePrincipal, api_root: str, status_id: str) -> Response:
    """Any scope may poll: a write-only key must be able to see how its POST went."""
    root = catalog.get_api_root(session, api_root)
    return TaxiiResponse(status.get(session, caller.org if caller else None, root, status_id))


@route("GET", "/{api_root}/collections/", summary="Collections (5.1)")
def list_collections(session: SessionDep, org: MaybeOrg, api_root: str) -> Response:
    root = catalog.get_api_root(session, api_root)
    found = [_collection_json(c, r) for c, r in catalog.in_root(session, org, root)]
    return _json({"collections": found} if found else {})


@route("GET", "/{api_root}/collections/{collection_id}/", summary="Collection (5.2)")
def get_collection(session: SessionDep, org: MaybeOrg, api_root: str, collection_id: str) -> Response:
    _, collection, rights = _collection(session, org, api_root, collection_id)
    return _json(_collection_json(collection, rights))


@route("GET", "/{api_root}/collections/{collection_id}/manifest/", summary="Manifest (5.3)", query=params.LISTING)
def get_manifest(request: Request, session: SessionDep, org: MaybeOrg, api_root: str, collection_id: str) -> Response:
    _, collection, rights = _collection(session, org, api_root, collection_id)
    catalog.require_read(rights, org)
    page = reads.page(session, org, collection, params.filters(request), limit=_page_size(request),
                      next_token=params.next_token(request), scope="manifest")
    entries = [{"id": r.stix_id, "date_added": from_micros(r.date_added), "version": _version(r), "media_type": STIX}
               for r in page.rows]
    return _json(_envelope(page, "objects", entries), headers=_date_headers(page.rows))


def _envelope(page: reads.Page, key: str, items: list[Any]) -> dict[str, Any]:
    body: dict[str, Any] = {"more": page.more}
    if page.next:
        body["next"] = page.next
    if items:
        body[key] = items
    return body


def _objects_response(page: reads.Page) -> Response:
    """The envelope with the stored JSON spliced in, so objects are never parsed on the way out."""
    head = orjson.dumps({"more": page.more} | ({"next": page.next} if page.next else {}))
    body = head[:-1] + b',"objects":[' + b",".join(r.raw for r in page.rows) + b"]}" if page.rows else head
    return TaxiiResponse(body, headers=_date_headers(page.rows))


@route("GET", "/{api_root}/collections/{collection_id}/objects/", summary="Objects (5.4)", query=params.LISTING)
def get_objects(request: Request, session: SessionDep, org: MaybeOrg, api_root: str, collection_id: str) -> Response:
    _, collection, rights = _collection(session, org, api_root, collection_id)
    catalog.require_read(rights, org)
    page = reads.page(session, org, collection, params.filters(request), limit=_page_size(request),
                      next_token=params.next_token(request))
    return _objects_response(page)


async def _envelope_body(request: Request) -> bytes:
    require_taxii_body(request)
    return await request_body(request)


@route("POST", "/{api_root}/collections/{collection_id}/objects/", summary="Add objects (5.5)", status_code=202,
       envelope=True)
def add_objects(request: Request, session: SessionDep, caller: Writer, api_root: str, collection_id: str,
                body: Annotated[bytes, Depends(_envelope_body)]) -> Response:
    """Small envelopes are stored before the answer ("complete"); large ones are queued and answered
    "pending" (see ``exchange.taxii.ingest_queue``). Malformed ones get their 4xx either way."""
    org = caller.org
    root, collection, rights = _collection(session, org, api_root, collection_id)
    catalog.require_write(rights, org)
    requested_at = now_micros()
    objects = envelope_objects(body)
    queue_from = request.app.state.settings.ingest_queue_from
    if queue_from and len(objects) >= queue_from:
        pending = ingest_queue.enqueue(session, root_pk=root.pk, collection=collection, org=org, actor=caller.actor,
                                remote_addr=audit.client_address(request), payload=body,
                                objects=objects, requested_at=requested_at, ingester=request.app.state.ingester)
        return TaxiiResponse(pending, status_code=202)
    result = ingest(session, objects, collection=collection, org=org)
    audit.record_request(session, request, caller, "taxii.add_objects", collection.id, result.summary)
    return TaxiiResponse(status.create(session, root_pk=root.pk, org=org, result=result, requested_at=requested_at),
                         status_code=202)


@route("GET", "/{api_root}/collections/{collection_id}/objects/{object_id}/", summary="Object (5.6)",
       query=("match[version]", "match[spec_version]", "added_after", "limit", "next"))
def get_object(request: Request, session: SessionDep, org: MaybeOrg, api_root: str, collection_id: str,
               object_id: str) -> Response:
    _, collection, rights = _collection(session, org, api_root, collection_id)
    catalog.require_read(rights, org)
    f = params.filters(request, allow=frozenset({"version", "spec_version"}))
    f = reads.Filters(ids=(object_id,), versions=f.versions, spec_versions=f.spec_versions, added_after=f.added_after)
    page = reads.page(session, org, collection, f, limit=_page_size(request), next_token=params.next_token(request))
    if not page.rows:
        _require_object(session, org, collection, object_id)
    return _objects_response(page)


def _require_object(session: SessionDep, org: MaybeOrg, collection: Collection, object_id: str) -> None:
    """404 when no readable version exists; a filter that selects none of the versions is an empty page."""
    everything = reads.Filters(ids=(object_id,), versions=("all",))
    if not reads.page(session, org, collection, everything, limit=1).rows:
        raise NotFound(f"no object {object_id!r} in this collection")


@route("DELETE", "/{api_root}/collections/{collection_id}/objects/{object_id}/", summary="Delete an object (5.7)",
       query=("match[version]", "match[spec_version]"))
def delete_object(request: Request, session: SessionDep, caller: Writer, api_root: str, collection_id: str,
                  object_id: str) -> Response:
    org = caller.org
    _, collection, rights = _collection(session, org, api_root, collection_id)
    catalog.require_write(rights, org)  # deleting is writing: a producer whose write grant went loses it
    f = params.filters(request, default_version="all", allow=frozenset({"version", "spec_version"}))
    deleted = reads.delete_object(session, org, collection, object_id, f)
    audit.record_request(session, request, caller, "taxii.delete_object", object_id,
                         f"{deleted} version(s) from collection {collection.id}")
    return TaxiiResponse(b"", status_code=200)


@route("GET", "/{api_root}/collections/{collection_id}/objects/{object_id}/versions/", summary="Versions (5.8)",
       query=("match[spec_version]", "added_after", "limit", "next"))
def get_versions(request: Request, session: SessionDep, org: MaybeOrg, api_root: str, collection_id: str,
                 object_id: str) -> Response:
    _, collection, rights = _collection(session, org, api_root, collection_id)
    catalog.require_read(rights, org)
    f = params.filters(request, default_version="all", allow=frozenset({"spec_version"}))
    f = reads.Filters(ids=(object_id,), versions=("all",), spec_versions=f.spec_versions, added_after=f.added_after)
    page = reads.page(session, org, collection, f, limit=_page_size(request), next_token=params.next_token(request),
                      scope="versions")
    if not page.rows:
        _require_object(session, org, collection, object_id)
    return _json(_envelope(page, "versions", [_version(r) for r in page.rows]), headers=_date_headers(page.rows))
