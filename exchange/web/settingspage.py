"""Settings: the person's language, and who in the organisation gets alerts (the subscriptions service's
own rules: address check, language list, duplicates)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import Response

from exchange.alerts.delivery import service as subscriptions
from exchange.alerts.delivery.models import Channel
from exchange.alerts.models import Severity
from exchange.alerts.wording import LANGUAGES
from exchange.core.deps import SessionDep, get_settings
from exchange.core.errors import Forbidden
from exchange.core.queryparams import INT_MAX
from exchange.orgs import audit
from exchange.orgs.models import Scope
from exchange.web.deps import CsrfChecked, SignedInDep, see_other
from exchange.web.models import WebPreference
from exchange.web.render import page
from exchange.web.sessions import SignedIn

router = APIRouter()
SubId = Annotated[int, Path(ge=1, le=INT_MAX)]


def _admin(me: SignedIn) -> None:
    """Who gets the organisation's alerts is the organisation's owners' choice."""
    if Scope.admin not in me.user.role.scopes:
        raise Forbidden("only an owner of the organisation may change who gets alerts")


@router.get("/settings")
def settings_page(request: Request, session: SessionDep, me: SignedInDep) -> Response:
    preference = session.get(WebPreference, me.user.pk)
    return page(request, "settings.html", {
        "subscriptions": subscriptions.get_all(session, me.org), "severities": list(Severity),
        "languages": LANGUAGES, "chosen": preference.language if preference else None,
        "can_manage": Scope.admin in me.user.role.scopes})


@router.post("/settings/subscriptions", dependencies=[CsrfChecked])
def add_subscription(request: Request, session: SessionDep, me: SignedInDep,
                     address: Annotated[str, Form(min_length=3, max_length=320)],
                     language: Annotated[str, Form(max_length=8)] = "en",
                     min_severity: Annotated[Severity, Form()] = Severity.low) -> Response:
    _admin(me)
    sub = subscriptions.create(session, me.org, channel=Channel.email, address=address, language=language,
                               min_severity=min_severity, settings=get_settings(request))
    audit.record(session, org=me.org, action="subscription.add", target=f"{me.org.slug}/{sub.pk}",
                 detail=f"email {sub.address} (web)", actor=f"{me.org.slug}:{me.user.email}",
                 remote_addr=audit.client_address(request))
    return see_other(request, "/settings")


@router.post("/settings/subscriptions/{sub_id}/delete", dependencies=[CsrfChecked])
def remove_subscription(request: Request, session: SessionDep, me: SignedInDep, sub_id: SubId) -> Response:
    _admin(me)
    sub = subscriptions.get(session, me.org, sub_id)
    subscriptions.delete(session, sub)
    audit.record(session, org=me.org, action="subscription.remove", target=f"{me.org.slug}/{sub_id}",
                 detail="web", actor=f"{me.org.slug}:{me.user.email}", remote_addr=audit.client_address(request))
    return see_other(request, "/settings")
