"""Feeds for the hub admin: add one (the fields of ``POST /api/v1/feeds``, through the same ``feeds.service.spec``
and ``create``, so a refusal is the API's), see one with its recent runs and what they rejected, remove one,
"run now" (the feed becomes due and the worker runs it at its next tick, as ``POST /api/v1/feeds/{name}/run`` does:
a run can take minutes, longer than a page may), and switching a feed off and on again without losing its
bookmark."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import Response

import connectors
from exchange.core.deps import SessionDep
from exchange.core.errors import BadRequest
from exchange.feeds import service
from exchange.feeds.schedule import format_every
from exchange.feeds.schemas import MAX_OPTIONS
from exchange.orgs import audit
from exchange.sharing import catalog
from exchange.stix.tlp import Tlp
from exchange.web.admin.access import HubAdminPage
from exchange.web.dashboard import feeds
from exchange.web.deps import CsrfChecked, see_other
from exchange.web.render import page

router = APIRouter()
Name = Annotated[str, Path(max_length=64)]
Optional = Annotated[str, Form(max_length=200)]


def _options(text: str) -> dict[str, Any]:
    """The connector's own settings, written as a JSON object (the API's ``options``)."""
    if not text.strip():
        return {}
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"options: not JSON ({exc})") from None
    if not isinstance(value, dict) or len(value) > MAX_OPTIONS:
        raise BadRequest(f"options: a JSON object of at most {MAX_OPTIONS} settings, e.g. {{\"column\": 2}}")
    return value


def _tlp(text: str) -> Tlp | None:
    try:
        return Tlp(text) if text else None
    except ValueError:
        raise BadRequest(f"tlp: one of {', '.join(level.value for level in Tlp)}") from None


def _confidence(text: str) -> int | None:
    if not text:
        return None
    if not text.isdigit() or int(text) > 100:
        raise BadRequest("confidence: a whole number from 0 to 100")
    return int(text)


@router.get("/admin/feeds")
def list_feeds(request: Request, session: SessionDep, caller: HubAdminPage) -> Response:
    return page(request, "admin_feeds.html", {
        "feeds": feeds(session, caller.org), "kinds": sorted([*connectors.KINDS, *connectors.PUSH_KINDS]),
        "levels": list(Tlp), "collections": [(root, c) for root, c, _ in catalog.everywhere(session, caller.org)]})


@router.post("/admin/feeds", dependencies=[CsrfChecked])
def add_feed(request: Request, session: SessionDep, caller: HubAdminPage,
             name: Annotated[str, Form(min_length=1, max_length=64)], kind: Annotated[str, Form(max_length=16)],
             url: Annotated[str, Form(min_length=8, max_length=2048)], owner: Optional = "", collection: Optional = "",
             tlp: Annotated[str, Form(max_length=16)] = "", confidence: Annotated[str, Form(max_length=3)] = "",
             every: Annotated[str, Form(max_length=16)] = "1h", cron: Optional = "", username: Optional = "",
             password_env: Optional = "", options: Annotated[str, Form(max_length=8000)] = "") -> Response:
    """Empty fields are the API's absent ones (a browser sends an untouched field as ""): the hub as owner, the
    default collection, the connector's TLP."""
    spec = service.spec(session, name=name, kind=kind, url=url, owner=owner or None, collection=collection or None,
                        username=username or None, password_env=password_env or None, tlp_level=_tlp(tlp),
                        confidence=_confidence(confidence), every=every or "1h", options=_options(options),
                        cron=cron or None)
    feed = service.create(session, spec)
    audit.record_request(session, request, caller, "feed.add", feed.name, f"{feed.kind} {feed.url}")
    return see_other(request, f"/admin/feeds/{feed.name}")


@router.get("/admin/feeds/{name}")
def feed_page(request: Request, session: SessionDep, caller: HubAdminPage, name: Name) -> Response:
    feed = service.get(session, name)
    owner, collection = service.names_of(session, feed)
    return page(request, "admin_feed.html", {"feed": feed, "owner": owner, "collection": collection,
                                             "every": format_every(feed.every_seconds),
                                             "runs": service.runs(session, feed)})


@router.post("/admin/feeds/{name}/remove", dependencies=[CsrfChecked])
def remove(request: Request, session: SessionDep, caller: HubAdminPage, name: Name) -> Response:
    """What the feed stored stays; only its configuration, bookmark and runs go."""
    service.delete(session, service.get(session, name))
    audit.record_request(session, request, caller, "feed.remove", name)
    return see_other(request, "/admin/feeds")


@router.post("/admin/feeds/{name}/run", dependencies=[CsrfChecked])
def run_now(request: Request, session: SessionDep, caller: HubAdminPage, name: Name) -> Response:
    service.make_due(service.get(session, name))
    audit.record_request(session, request, caller, "feed.run", name)
    return see_other(request, "/admin/feeds")


@router.post("/admin/feeds/{name}/enable", dependencies=[CsrfChecked])
def enable(request: Request, session: SessionDep, caller: HubAdminPage, name: Name) -> Response:
    service.set_enabled(service.get(session, name), True)
    audit.record_request(session, request, caller, "feed.enable", name)
    return see_other(request, "/admin/feeds")


@router.post("/admin/feeds/{name}/disable", dependencies=[CsrfChecked])
def disable(request: Request, session: SessionDep, caller: HubAdminPage, name: Name) -> Response:
    service.set_enabled(service.get(session, name), False)
    audit.record_request(session, request, caller, "feed.disable", name)
    return see_other(request, "/admin/feeds")
