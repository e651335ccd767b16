"""REST routes of alerts under ``/api/v1``, and the one-click answer pages under ``/a/``: parse, authorise,
call the service, serialise."""

from __future__ import annotations

from dataclasses import asdict
from html import escape
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse

from exchange.alerts import links, service
from exchange.alerts.models import AlertKind, AlertState, Severity
from exchange.alerts.schemas import AlertOut, AlertPageOut, AnswerIn, ReachOut, alert_out
from exchange.core.deps import SessionDep, SettingsDep
from exchange.core.handlers import ERRORS
from exchange.core.queryparams import INT_MAX, known_only, page_limit, text_path, text_query
from exchange.orgs import audit
from exchange.orgs.auth import CurrentOrg, Writer
from exchange.orgs.models import Org

router = APIRouter(prefix="/api/v1", tags=["alerts"], responses=ERRORS, dependencies=[Depends(known_only)])
pages = APIRouter(prefix="/a", include_in_schema=False)
AlertId = Annotated[int, Path(ge=1, le=INT_MAX)]
Token = Annotated[str, text_path(max_length=200)]


@router.get("/alerts", summary="The caller's alerts, newest first", response_model=AlertPageOut)
def list_alerts(
    settings: SettingsDep, session: SessionDep, org: CurrentOrg,
    state: Annotated[AlertState | None, Query(description="Only alerts in this state")] = None,
    kind: Annotated[AlertKind | None, Query(description="Only alerts of this kind")] = None,
    severity: Annotated[Severity | None, Query(description="Only alerts of this severity")] = None,
    limit: Annotated[int | None, page_limit()] = None,
    next_page: Annotated[str | None, text_query(alias="next", description="`next` of the previous page",
                                                max_length=32)] = None,
) -> AlertPageOut:
    page = service.page(session, org, after=next_page, state=state, kind=kind, severity=severity,
                        limit=min(limit or settings.default_page_size, settings.max_page_size))
    return AlertPageOut(alerts=[alert_out(session, a, page.assets) for a in page.alerts], more=page.next is not None,
                        next=page.next)


@router.get("/alerts/reach", summary="For the object's producer: whom it reached and what they did",
            response_model=ReachOut)
def reach(session: SessionDep, org: CurrentOrg,
          object_id: Annotated[str, text_query(description="The STIX id of an object the caller published",
                                               max_length=300)]) -> ReachOut:
    return ReachOut(**asdict(service.reach(session, org, object_id)))


@router.get("/alerts/{alert_id}", summary="One of the caller's alerts", response_model=AlertOut)
def get_alert(session: SessionDep, org: CurrentOrg, alert_id: AlertId) -> AlertOut:
    return alert_out(session, service.get(session, org, alert_id))


@router.post("/alerts/{alert_id}/answer", summary="Answer an alert (fixed, false-positive, …)",
             response_model=AlertOut)
def answer(request: Request, session: SessionDep, caller: Writer, alert_id: AlertId, body: AnswerIn) -> AlertOut:
    alert = service.answer(session, service.get(session, caller.org, alert_id), body.answer, named=body.named)
    audit.record_request(session, request, caller, "alert.answer", str(alert.pk), body.answer.value)
    return alert_out(session, alert)


def _page(title: str, body: str) -> HTMLResponse:
    return HTMLResponse(f"<!doctype html><html lang=en><meta charset=utf-8><title>{escape(title)}</title>"
                        f"<body><h1>{escape(title)}</h1>{body}</body></html>")


@pages.get("/{token}", response_class=HTMLResponse)
def confirm_page(session: SessionDep, token: Token) -> HTMLResponse:
    alert, state = links.resolve(session, token)
    return _page("Confirm your answer", f"<p>Answer <b>{escape(state.value)}</b> to alert {alert.pk}?</p>"
                 "<form method=post><button type=submit>Confirm</button></form>")


@pages.post("/{token}", response_class=HTMLResponse)
def confirm(request: Request, session: SessionDep, token: Token) -> HTMLResponse:
    alert = links.apply(session, token)
    audit.record(session, org=session.get(Org, alert.org_pk), action="alert.answer", target=str(alert.pk),
                 detail=f"{alert.state} by link", actor="link", remote_addr=audit.client_address(request))
    return _page("Thank you", f"<p>Your answer <b>{escape(alert.state)}</b> is recorded.</p>")
