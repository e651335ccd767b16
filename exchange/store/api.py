"""REST routes of the STIX store under ``/api/v1``: parse, authorise, call the service, serialise."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from exchange.core.deps import SessionDep, request_body
from exchange.core.errors import BadRequest, Forbidden, UnsupportedMediaType
from exchange.core.handlers import ERRORS, ErrorOut
from exchange.core.media import STIX, content_type
from exchange.core.queryparams import known_only, page_limit, text_path, text_query
from exchange.core.timestamps import from_micros, to_micros
from exchange.orgs import audit
from exchange.orgs import service as orgs
from exchange.orgs.auth import CurrentOrg, HubAdmin, OrgAdmin, Writer
from exchange.orgs.models import Org, SharingGroup
from exchange.sharing import catalog, groups
from exchange.stix import tlp
from exchange.store import ingest as ingest_service
from exchange.store import reads
from exchange.store.models import ApiRoot, Collection
from exchange.store.schemas import (
    ApiRootIn,
    ApiRootOut,
    BundleIn,
    CollectionIn,
    CollectionOut,
    GrantIn,
    IngestOut,
    ObjectPageOut,
    ObjectResultOut,
    ObjectVersionsOut,
    ObservableLookupOut,
    ObservableMatchOut,
)

router = APIRouter(prefix="/api/v1", tags=["stix"], responses=ERRORS, dependencies=[Depends(known_only)])


def _json(payload: bytes, status: int = 200) -> Response:
    return Response(payload, status_code=status, media_type="application/json")


def _objects_json(raws: Iterable[bytes], **extra: Any) -> bytes:
    """Splice the stored JSON in as-is: no re-parsing of what was accepted."""
    head = orjson.dumps(extra)[:-1] + (b"," if extra else b"")
    return head + b'"objects":[' + b",".join(raws) + b"]}"


_JSON_TYPES = frozenset({"application/json", "application/stix+json", "application/taxii+json"})


async def _json_body(request: Request) -> bytes:
    """The raw body: ingest parses it with orjson and the JSON limits (duplicate members, depth,
    64-bit integers), exactly as for TAXII, instead of FastAPI's lenient standard-library parse.

    Only JSON media types: a browser sends text/plain, form and multipart bodies cross-site without
    asking (no CORS preflight), so accepting them would let any web page publish with a visitor's
    cached Basic credentials."""
    media, version = content_type(request)
    if media not in _JSON_TYPES or (media != "application/json" and version not in (None, "2.1")):
        header = request.headers.get("content-type")
        raise UnsupportedMediaType(f"send the objects as application/json (or {STIX}), not "
                                   f"{header or 'no content type'!r}")
    return await request_body(request)


@router.post(
    "/objects",
    summary="Publish STIX objects",
    description="Send a bundle (or a list of objects). Every object is validated; valid ones are stored in one "
    "transaction, invalid ones are reported and skipped. Re-sending a version already stored is a success.",
    response_model=IngestOut,
    status_code=200,
    responses={415: {"model": ErrorOut, "description": "The body is not JSON (or STIX JSON)"},
               408: {"model": ErrorOut, "description": "The body did not arrive within the body timeout"}},
    openapi_extra={"requestBody": {"required": True, "description": "A STIX 2.1 bundle",
                                   "content": {"application/json": {"schema": BundleIn.model_json_schema()}}}},
)
def publish(
    request: Request,
    session: SessionDep,
    caller: Writer,
    body: Annotated[bytes, Depends(_json_body)],
    collection: Annotated[str | None, text_query(description="Collection id; the default collection if absent")] = None,
) -> IngestOut:
    org = caller.org
    target, rights = catalog.get(session, org, None, collection or reads.DEFAULT_COLLECTION_ID)
    catalog.require_write(rights, org)
    result = ingest_service.ingest(session, body, collection=target, org=org)
    audit.record_request(session, request, caller, "rest.publish", target.id,
                         result.summary)
    counter = request.app.state.ingested
    for status, n in (("added", result.added), ("duplicate", result.duplicates), ("rejected", result.rejected)):
        counter.labels(status).inc(n)
    return IngestOut(
        added=result.added,
        duplicates=result.duplicates,
        rejected=result.rejected,
        results=[ObjectResultOut(id=r.id, version=r.version, status=r.status, message=r.message)
                 for r in result.results],
    )


@router.get("/objects", summary="List current objects", response_model=ObjectPageOut)
def list_objects(
    request: Request,
    session: SessionDep,
    org: CurrentOrg,
    type: Annotated[list[str] | None, Query(description="Only these STIX types (repeatable)", max_length=50)] = None,
    value: Annotated[str | None, text_query(description="Only objects with this observable value", max_length=1024)]
    = None,
    since: Annotated[str | None, text_query(description="Only objects added at or after this STIX timestamp")] = None,
    limit: Annotated[int | None, page_limit()] = None,
    next_page: Annotated[str | None, text_query(alias="next", description="`next` of the previous page",
                                                max_length=512)] = None,
    collection: Annotated[str | None, text_query(description="Only this collection id", max_length=64)] = None,
) -> Response:
    settings = request.app.state.settings
    page = reads.list_objects(
        session,
        org,
        limit=min(limit or settings.default_page_size, settings.max_page_size),
        next_token=next_page,
        types=type or (),
        value=value,
        added_since=_timestamp(since, "since"),
        collection=_readable_collection(session, org, collection) if collection else None,
    )
    return _json(_objects_json((row.raw for row in page.rows), more=page.more, next=page.next))


@router.get("/objects/{object_id}", summary="Get one object", response_model=ObjectVersionsOut)
def get_object(
    session: SessionDep,
    org: CurrentOrg,
    object_id: str,
    versions: Annotated[Literal["last", "all"], Query(description="`all` for every stored version")] = "last",
) -> Response:
    rows = reads.get_versions(session, org, object_id, all_versions=versions == "all")
    return _json(_objects_json(row.raw for row in rows))


@router.get("/observables", summary="Is this value known bad?", response_model=ObservableLookupOut)
def lookup(
    request: Request,
    session: SessionDep,
    org: CurrentOrg,
    value: Annotated[str, text_query(min_length=1, max_length=1024, description="Domain, IP, URL, e-mail, hash, CVE…")],
) -> ObservableLookupOut:
    found = reads.lookup(session, org, value, limit=request.app.state.settings.max_page_size)
    matches = []
    for hit in found:
        raw = orjson.loads(hit.object.raw)
        matches.append(ObservableMatchOut(
            kind=hit.kind, value=hit.value, object_id=hit.object.stix_id, object_type=hit.object.type,
            tlp=hit.object.tlp, name=raw.get("name"),
            valid_until=from_micros(hit.object.valid_until) if hit.object.valid_until is not None else None,
        ))
    return ObservableLookupOut(value=value, known=bool(matches), matches=matches)


def _readable_collection(session: SessionDep, reader: Org, collection_id: str) -> Collection:
    target, rights = catalog.get(session, reader, None, collection_id)
    catalog.require_read(rights, reader)
    return target


def _collection_out(session: SessionDep, reader: Org, c: Collection) -> CollectionOut:
    rights = catalog.rights(session, reader, c)
    owner = session.get(Org, c.owner_org_pk) if c.owner_org_pk else None
    group = session.get(SharingGroup, c.sharing_group_pk) if c.sharing_group_pk else None
    root = session.get(ApiRoot, c.api_root_pk)
    return CollectionOut(id=c.id, api_root=root.name if root else "", title=c.title, description=c.description,
                         default_tlp=c.default_tlp, owner=owner.slug if owner else None,
                         sharing_group=group.id if group else None, public=c.public, can_read=rights.can_read,
                         can_write=rights.can_write)


def _api_root_out(request: Request, root: ApiRoot) -> ApiRootOut:
    return ApiRootOut(name=root.name, title=root.title, description=root.description,
                      url=catalog.api_root_url(request.app.state.settings.base_url, root))


@router.get("/api-roots", summary="TAXII API roots", response_model=list[ApiRootOut])
def list_api_roots(request: Request, session: SessionDep, org: CurrentOrg) -> list[ApiRootOut]:
    return [_api_root_out(request, root) for root in catalog.api_roots(session)]


@router.post("/api-roots", summary="Create a TAXII API root", response_model=ApiRootOut, status_code=201,
             description="Hub admins (key with the admin scope). Discovery lists the new root at once; "
             "collections are added to it with `api_root` on `POST /collections`.")
def create_api_root(request: Request, session: SessionDep, caller: HubAdmin, body: ApiRootIn) -> ApiRootOut:
    root = catalog.create_api_root(session, name=body.name, title=body.title, description=body.description)
    audit.record_request(session, request, caller, "api_root.create", root.name, body.title)
    return _api_root_out(request, root)


@router.get("/collections", summary="Collections this organisation may read or write",
            response_model=list[CollectionOut])
def list_collections(session: SessionDep, org: CurrentOrg) -> list[CollectionOut]:
    return [_collection_out(session, org, c) for _, c, _ in catalog.everywhere(session, org)]


@router.post("/collections", summary="Create a collection owned by this organisation", response_model=CollectionOut,
             status_code=201, description="Hub admins, and csirt and isac organisations (key with the admin scope). "
             "A sharing group's collection may be created by its members only.")
def create_collection(request: Request, session: SessionDep, caller: OrgAdmin, body: CollectionIn) -> CollectionOut:
    org = caller.org
    if not org.role.can_publish:
        raise Forbidden("only csirt, isac and admin organisations create collections")
    group = groups.get_visible(session, org, body.sharing_group) if body.sharing_group else None
    created = catalog.create(session, title=body.title, api_root=body.api_root, description=body.description,
                                 default_tlp=tlp.parse(body.default_tlp), public=body.public,
                                 members_read=body.members_read, publishers_write=body.audience_write, owner=org,
                                 sharing_group=group)
    audit.record_request(session, request, caller, "collection.create", created.id, body.title)
    return _collection_out(session, org, created)


@router.put("/collections/{collection_id}/grants/{slug}", summary="Set an organisation's rights on a collection",
            response_model=CollectionOut, description="The collection's owner organisation, or a hub admin.")
def grant(request: Request, session: SessionDep, caller: OrgAdmin,
          collection_id: Annotated[str, text_path(max_length=64)], slug: Annotated[str, text_path(max_length=64)],
          body: GrantIn) -> CollectionOut:
    target, _ = catalog.get(session, caller.org, None, collection_id)
    catalog.require_granter(target, caller.org)
    grantee = orgs.get_by_slug(session, slug)
    catalog.grant(session, collection=target, org=grantee, read=body.read, write=body.write)
    audit.record_request(session, request, caller, "collection.grant", target.id,
                         f"{slug}: read={body.read}, write={body.write}")
    return _collection_out(session, caller.org, target)


def _timestamp(value: str | None, name: str) -> int | None:
    if value is None:
        return None
    micros = to_micros(value)
    if micros is None:
        raise BadRequest(f"{name!r} must be a timestamp like 2024-01-31T12:00:00Z")
    return micros
