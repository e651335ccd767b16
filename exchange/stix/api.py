"""REST routes of the STIX store under ``/api/v1``: parse, authorise, call the service, serialise."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import Response

from exchange.errors import BadRequest
from exchange.orgs import audit
from exchange.orgs.auth import CurrentOrg, SessionDep, Writer
from exchange.stix import collections, service
from exchange.stix import ingest as ingest_service
from exchange.stix.schemas import (
    BundleIn,
    ErrorOut,
    IngestOut,
    ObjectPageOut,
    ObjectResultOut,
    ObjectVersionsOut,
    ObservableLookupOut,
    ObservableMatchOut,
)
from exchange.stix.timestamps import from_micros, to_micros

NO_NUL = r"^[^\x00]*$"  # NUL is refused in URLs (see app.reject_nul); saying so keeps the schema honest


def text_query(**kwargs: Any) -> Any:
    """A string query parameter; NUL never passes (documented in the schema)."""
    return Query(pattern=NO_NUL, **kwargs)

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut, "description": text}
    for code, text in {
        400: "Malformed input", 401: "No or wrong credentials", 403: "Not allowed for this organisation",
        404: "Not found or not readable", 413: "Body too large", 422: "Invalid parameters",
    }.items()
}

router = APIRouter(prefix="/api/v1", tags=["stix"], responses=ERRORS)


def _json(payload: bytes, status: int = 200) -> Response:
    return Response(payload, status_code=status, media_type="application/json")


def _objects_json(raws: Iterable[bytes], **extra: Any) -> bytes:
    """Splice the stored JSON in as-is: no re-parsing of what was accepted."""
    head = orjson.dumps(extra)[:-1] + (b"," if extra else b"")
    return head + b'"objects":[' + b",".join(raws) + b"]}"


@router.post(
    "/objects",
    summary="Publish STIX objects",
    description="Send a bundle (or a list of objects). Every object is validated; valid ones are stored in one "
    "transaction, invalid ones are reported and skipped. Re-sending a version already stored is a success.",
    response_model=IngestOut,
    status_code=200,
)
def publish(
    request: Request,
    session: SessionDep,
    caller: Writer,
    bundle: Annotated[BundleIn, Body(description="A STIX 2.1 bundle")],
    collection: Annotated[str | None, text_query(description="Collection id; the default collection if absent")] = None,
) -> IngestOut:
    org = caller.org
    target = service.get_collection(session, collection)
    collections.require_write(collections.rights(session, org, target), org)
    result = ingest_service.ingest(session, bundle.objects, collection=target, org=org)
    audit.record_request(session, request, caller, "rest.publish", target.id,
                         f"{result.added} added, {result.duplicates} duplicates, {result.rejected} rejected")
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
    limit: Annotated[int | None, Query(ge=1, description="Page size (capped by the server)")] = None,
    cursor: Annotated[str | None, text_query(description="`next` of the previous page", max_length=512)] = None,
    collection: Annotated[str | None, text_query(description="Only this collection id", max_length=64)] = None,
) -> Response:
    settings = request.app.state.settings
    page = service.list_objects(
        session,
        org,
        limit=min(limit or settings.default_page_size, settings.max_page_size),
        cursor=cursor,
        types=type or (),
        value=value,
        added_since=_timestamp(since, "since"),
        collection=service.get_collection(session, collection) if collection else None,
    )
    return _json(_objects_json((row.raw for row in page.objects), more=page.next is not None, next=page.next))


@router.get("/objects/{object_id}", summary="Get one object", response_model=ObjectVersionsOut)
def get_object(
    session: SessionDep,
    org: CurrentOrg,
    object_id: str,
    versions: Annotated[Literal["last", "all"], Query(description="`all` for every stored version")] = "last",
) -> Response:
    rows = service.get_versions(session, org, object_id, all_versions=versions == "all")
    return _json(_objects_json(row.raw for row in rows))


@router.get("/observables", summary="Is this value known bad?", response_model=ObservableLookupOut)
def lookup(
    request: Request,
    session: SessionDep,
    org: CurrentOrg,
    value: Annotated[str, text_query(min_length=1, max_length=1024, description="Domain, IP, URL, e-mail, hash, CVE…")],
) -> ObservableLookupOut:
    found = service.lookup(session, org, value, limit=request.app.state.settings.max_page_size)
    matches = []
    for hit in found:
        raw = orjson.loads(hit.object.raw)
        matches.append(ObservableMatchOut(
            kind=hit.kind, value=hit.value, object_id=hit.object.stix_id, object_type=hit.object.type,
            tlp=hit.object.tlp, name=raw.get("name"),
            valid_until=from_micros(hit.object.valid_until) if hit.object.valid_until is not None else None,
        ))
    return ObservableLookupOut(value=value, known=bool(matches), matches=matches)


def _timestamp(value: str | None, name: str) -> int | None:
    if value is None:
        return None
    micros = to_micros(value)
    if micros is None:
        raise BadRequest(f"{name!r} must be a timestamp like 2024-01-31T12:00:00Z")
    return micros
