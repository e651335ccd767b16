"""Feeds for the hub admin: each with its latest run and whether it is on, "run now" (the feed becomes due and
the worker runs it at its next tick, as ``POST /api/v1/feeds/{name}/run`` does: a run can take minutes, longer
than a page may), and switching a feed off and on again without losing its bookmark."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from exchange.core.deps import SessionDep
from exchange.feeds import service
from exchange.orgs import audit
from exchange.web.admin.access import HubAdminPage
from exchange.web.dashboard import feeds
from exchange.web.deps import CsrfChecked, see_other
from exchange.web.render import page

router = APIRouter()
Name = Annotated[str, Path(max_length=64)]


@router.get("/admin/feeds")
def list_feeds(request: Request, session: SessionDep, caller: HubAdminPage) -> Response:
    return page(request, "admin_feeds.html", {"feeds": feeds(session, caller.org)})


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
