"""The inbox: an organisation's alerts in the words of the e-mail, and the one-click answers as forms.

Everything goes through the alerts' own services: ``alerts.service.page`` (keyset paging, own alerts
only), ``alerts.service.get`` (another organisation's alert is a 404), ``alerts.service.answer`` (the
sighting back to the publisher), and the delivery's ``compose`` + ``wording``, so the page says exactly
what the mail says and reads the object through the one read rule. A page of the inbox is composed in
one go (``Composer.prefetch``): a handful of queries per page, not three or four per alert.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from exchange.alerts import service as alerts
from exchange.alerts import wording
from exchange.alerts.delivery import compose
from exchange.alerts.delivery.models import Channel, Subscription
from exchange.alerts.message import Rendered
from exchange.alerts.models import Alert, AlertState
from exchange.assets.models import Asset
from exchange.core.deps import SessionDep, get_settings
from exchange.core.errors import Forbidden
from exchange.core.queryparams import INT_MAX
from exchange.orgs import audit
from exchange.orgs.models import Scope
from exchange.web import wizard
from exchange.web.deps import CsrfChecked, SignedInDep, see_other
from exchange.web.render import page

router = APIRouter()
PAGE_SIZE = 25
OPEN = (AlertState.new, AlertState.acknowledged, AlertState.need_help)
FILTERS: dict[str, tuple[AlertState, ...] | None] = {"open": OPEN, "fixed": (AlertState.fixed,), "all": None}
# The answers the page offers, in the order of the e-mail's links.
ANSWERS = (AlertState.acknowledged, AlertState.fixed, AlertState.false_positive, AlertState.need_help)
AlertId = Annotated[int, Path(ge=1, le=INT_MAX)]


def _reader(request: Request) -> Subscription:
    """A web page is a channel like a webhook: the signed-in reader may read what the read rule lets it read."""
    return Subscription(channel=Channel.webhook.value, timezone="UTC", language=request.state.language)


def rendered(request: Request, session: Session, alert: Alert) -> Rendered:
    """The alert as its e-mail words it, in the page's language; its page is where to read it, its buttons
    answer it (no links)."""
    message = compose.message(session, alert, request.state.web.org, _reader(request),
                              base_url=get_settings(request).base_url)
    return wording.render(dataclasses.replace(message, answer_urls={}), request.state.language, html=False)


def rows(request: Request, session: Session, listed: alerts.Page) -> list[dict[str, Any]]:
    """A page of the inbox (``listed``: read with its assets): each alert with its asset and the subject its
    e-mail has, composed in one go (``Composer.prefetch``: a few queries per page, not three or four per alert),
    without the steps, contact and links that a subject never shows (``subjects_only``). A withheld alert shows
    no subject, only which asset to verify."""
    org, reader = request.state.web.org, _reader(request)
    composer = compose.Composer(session, get_settings(request).base_url, subjects_only=True, assets=listed.assets)
    composer.prefetch((alert, org) for alert in listed.alerts)
    found = []
    for alert in listed.alerts:
        asset = composer.asset(alert)
        subject = None if alert.withheld else wording.subject(
            composer.message(alert, org, reader), request.state.language)
        found.append({"alert": alert, "asset": asset.value if asset is not None else "", "subject": subject})
    return found


@router.get("/")
def start(request: Request, me: SignedInDep) -> Response:
    return see_other(request, "/inbox")


@router.get("/inbox")
def inbox(request: Request, session: SessionDep, me: SignedInDep,
          show: Annotated[Literal["open", "fixed", "all"], Query()] = "open",
          after: Annotated[str | None, Query(max_length=20, pattern=r"^[0-9]+$")] = None) -> Response:
    found = alerts.page(session, me.org, limit=PAGE_SIZE, after=after, states=FILTERS[show])
    if show == "open" and after is None and not found.alerts and wizard.due(request, session, me):
        return wizard.welcome(request)  # a sector advisory can alert an SME with no asset: its alerts come first
    return page(request, "inbox.html", {"rows": rows(request, session, found), "show": show,
                                        "next": found.next, "filters": list(FILTERS)})


@router.get("/inbox/{alert_id}")
def alert_page(request: Request, session: SessionDep, me: SignedInDep, alert_id: AlertId,
               answered: Annotated[bool, Query()] = False) -> Response:
    alert = alerts.get(session, me.org, alert_id)
    asset = session.get(Asset, alert.asset_pk) if alert.asset_pk is not None else None
    text = None if alert.withheld else rendered(request, session, alert)
    return page(request, "alert.html", {"alert": alert, "asset": asset, "text": text, "answers": ANSWERS,
                                        "answered": answered,
                                        "can_answer": Scope.write in me.user.role.scopes and not alert.withheld})


@router.post("/inbox/{alert_id}/answer", dependencies=[CsrfChecked])
def answer(request: Request, session: SessionDep, me: SignedInDep, alert_id: AlertId,
           state: Annotated[AlertState, Form(alias="answer")],
           named: Annotated[bool, Form()] = False) -> Response:
    if Scope.write not in me.user.role.scopes:
        raise Forbidden("your role may read alerts but not answer them")
    alert = alerts.answer(session, alerts.get(session, me.org, alert_id), state, named=named)
    audit.record_person(session, request, me.org, me.user, "alert.answer", str(alert.pk),
                        f"{state.value} (web)")
    return see_other(request, f"/inbox/{alert.pk}?answered=true")
