"""The dashboard of a CSIRT, ISAC or admin organisation: what it published and received this week, its feeds
and their last run, and what its objects' alerts became (sent, delivered, failed, answered). Each figure
is one SQL aggregate; nothing is loaded row by row. Received objects are counted through the read rule."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from exchange.alerts.delivery.models import Delivery, DeliveryStatus
from exchange.alerts.models import Alert
from exchange.core.deps import SessionDep
from exchange.core.errors import NotFound
from exchange.core.timestamps import now_micros
from exchange.feeds.models import Feed, FeedRun
from exchange.orgs.models import Org, Role
from exchange.sharing import access
from exchange.store.models import StixObject
from exchange.web.deps import SignedInDep
from exchange.web.render import page
from exchange.web.sessions import SignedIn

router = APIRouter()
WEEK = 7 * 86_400 * 1_000_000  # µs
PRODUCERS = frozenset({Role.csirt, Role.isac, Role.admin})


@dataclass(frozen=True, slots=True)
class Figures:
    published: int
    received: int
    alerts: int  # alerts raised in full about the producer's objects (not withheld)
    answered: int
    delivered: int
    failed: int
    waiting: int


def figures(session: Session, org: Org, *, since: int) -> Figures:
    published = session.scalar(select(func.count()).select_from(StixObject).where(
        StixObject.publisher_org_pk == org.pk, StixObject.date_added >= since)) or 0
    received = session.scalar(select(func.count()).select_from(StixObject).where(
        access.visible(org), StixObject.date_added >= since,
        (StixObject.publisher_org_pk != org.pk) | StixObject.publisher_org_pk.is_(None))) or 0
    # One probe of the object's id index per alert of the week, rather than a list of everything it published.
    ours = exists().where(StixObject.stix_id == Alert.object_id, StixObject.publisher_org_pk == org.pk)
    mine = (Alert.created_at >= since, Alert.withheld.is_(False), ours)
    alerts, answered = session.execute(select(func.count(), func.count(Alert.answered_at)).where(*mine)).one()
    by_status = dict(session.execute(select(Delivery.status, func.count()).join(Alert, Alert.pk == Delivery.alert_pk)
                                     .where(*mine).group_by(Delivery.status)).all())
    return Figures(published, received, alerts, answered,
                   by_status.get(DeliveryStatus.sent.value, 0) + by_status.get(DeliveryStatus.bundled.value, 0),
                   by_status.get(DeliveryStatus.dead.value, 0),
                   by_status.get(DeliveryStatus.pending.value, 0) + by_status.get(DeliveryStatus.held.value, 0))


def feeds(session: Session, org: Org) -> list[tuple[Feed, FeedRun | None]]:
    """The organisation's feeds (every feed for an admin) with their latest run."""
    latest = (select(FeedRun.feed_pk, func.max(FeedRun.pk).label("run_pk")).group_by(FeedRun.feed_pk)
              .subquery())
    query = (select(Feed, FeedRun).outerjoin(latest, latest.c.feed_pk == Feed.pk)
             .outerjoin(FeedRun, FeedRun.pk == latest.c.run_pk).order_by(Feed.name))
    if not org.is_hub_admin:
        query = query.where(Feed.owner_org_pk == org.pk)
    return [(feed, run) for feed, run in session.execute(query).all()]


def producer(me: SignedInDep) -> SignedIn:
    """The dashboard is for organisations that publish; for others it does not exist."""
    if me.org.role not in PRODUCERS:
        raise NotFound("no such page")
    return me


@router.get("/dashboard")
def dashboard(request: Request, session: SessionDep, me: Annotated[SignedIn, Depends(producer)]) -> Response:
    since = now_micros() - WEEK
    return page(request, "dashboard.html", {"f": figures(session, me.org, since=since), "since": since,
                                            "feeds": feeds(session, me.org)})
