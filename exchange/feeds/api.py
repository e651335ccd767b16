"""REST routes of the feeds under ``/api/v1/feeds``: parse, authorise, call the service, serialise.

Feeds are the hub operator's: only admin organisations manage them (a feed names environment
variables of the hub's host and publishes as any csirt or isac it names as owner). A run is not
done inside a request (it may take minutes): ``POST .../run`` makes the feed due, and the worker
runs it at its next tick; ``exchange feed run`` runs one in the foreground.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.orm import Session

from exchange.core.deps import SessionDep
from exchange.core.handlers import ERRORS
from exchange.core.queryparams import known_only, text_path
from exchange.feeds import service
from exchange.feeds.models import Feed
from exchange.feeds.schemas import FeedIn, FeedOut, FeedRunsOut, feed_out, run_out
from exchange.orgs import audit
from exchange.orgs.auth import HubAdmin

router = APIRouter(prefix="/api/v1/feeds", tags=["feeds"], responses=ERRORS, dependencies=[Depends(known_only)])
Name = Annotated[str, text_path(max_length=64)]


def _out(session: Session, feed: Feed) -> FeedOut:
    return feed_out(feed, *service.names_of(session, feed))


@router.get("", summary="Every feed", response_model=list[FeedOut])
def list_feeds(session: SessionDep, caller: HubAdmin) -> list[FeedOut]:
    return [_out(session, f) for f in service.get_all(session)]


@router.post("", summary="Add a feed", response_model=FeedOut, status_code=201)
def add_feed(request: Request, session: SessionDep, caller: HubAdmin, body: FeedIn) -> FeedOut:
    spec = service.spec(session, name=body.name, kind=body.kind, url=body.url, owner=body.owner,
                        collection=body.collection, username=body.username, password_env=body.password_env,
                        tlp_level=body.tlp, confidence=body.confidence, every=body.every, options=body.options,
                        cron=body.cron)
    feed = service.create(session, spec)
    audit.record_request(session, request, caller, "feed.add", feed.name, f"{feed.kind} {feed.url}")
    return _out(session, feed)


@router.get("/{name}", summary="One feed, with its bookmark", response_model=FeedOut)
def get_feed(session: SessionDep, caller: HubAdmin, name: Name) -> FeedOut:
    return _out(session, service.get(session, name))


@router.delete("/{name}", summary="Remove a feed (what it stored stays)", status_code=204)
def remove_feed(request: Request, session: SessionDep, caller: HubAdmin, name: Name) -> Response:
    service.delete(session, service.get(session, name))
    audit.record_request(session, request, caller, "feed.remove", name)
    return Response(status_code=204)


@router.get("/{name}/runs", summary="The feed's latest runs, newest first", response_model=FeedRunsOut)
def feed_runs(session: SessionDep, caller: HubAdmin, name: Name,
              limit: Annotated[int, Query(ge=1, le=500, description="How many runs")] = 20) -> FeedRunsOut:
    return FeedRunsOut(runs=[run_out(r) for r in service.runs(session, service.get(session, name), limit=limit)])


@router.post("/{name}/run", summary="Make the feed due: the worker runs it at its next tick", status_code=202)
def run_feed(request: Request, session: SessionDep, caller: HubAdmin, name: Name) -> Response:
    service.make_due(service.get(session, name))
    audit.record_request(session, request, caller, "feed.run", name)
    return Response(status_code=202)
