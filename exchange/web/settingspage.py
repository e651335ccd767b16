"""Settings: the person's language, and who in the organisation gets alerts (the subscriptions service's
own rules: address check, language list, duplicates), with a preview of what each subscription receives.

The preview is what delivery would send: the organisation's newest alert composed by ``compose.message``
for that subscription (else a sample message), worded by ``wording.render`` in the subscription's language
for e-mail, or wrapped by ``events.envelope`` (the CloudEvents JSON) and signed by
``webhook.signature_headers`` for a webhook. Nothing is composed a second way here.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from exchange.alerts import service as alerts
from exchange.alerts import wording
from exchange.alerts.delivery import compose, events, webhook
from exchange.alerts.delivery import service as subscriptions
from exchange.alerts.delivery.models import Channel, Subscription
from exchange.alerts.message import Message, Sender
from exchange.alerts.models import AlertEventType, AlertKind, Severity, SourceGrade
from exchange.alerts.wording import LANGUAGES
from exchange.assets import service as assets
from exchange.assets.models import AssetKind
from exchange.core.deps import SessionDep, get_settings
from exchange.core.errors import Forbidden, NotFound
from exchange.core.queryparams import INT_MAX
from exchange.core.timestamps import now_micros
from exchange.orgs import audit
from exchange.orgs.models import Org, Scope
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


def subscribe(request: Request, session: Session, me: SignedIn, address: str, language: str,
              min_severity: Severity) -> Subscription:
    """Someone gets the organisation's alerts by e-mail, from this page or the first-run wizard (audited)."""
    _admin(me)
    sub = subscriptions.create(session, me.org, channel=Channel.email, address=address, language=language,
                               min_severity=min_severity, settings=get_settings(request))
    audit.record_person(session, request, me.org, me.user, "subscription.add", f"{me.org.slug}/{sub.pk}",
                        f"email {sub.address} (web)")
    return sub


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
    subscribe(request, session, me, address, language, min_severity)
    return see_other(request, "/settings")


@router.post("/settings/subscriptions/{sub_id}/delete", dependencies=[CsrfChecked])
def remove_subscription(request: Request, session: SessionDep, me: SignedInDep, sub_id: SubId) -> Response:
    _admin(me)
    sub = subscriptions.get(session, me.org, sub_id)
    subscriptions.delete(session, sub)
    audit.record_person(session, request, me.org, me.user, "subscription.remove", f"{me.org.slug}/{sub_id}",
                        "web")
    return see_other(request, "/settings")


@router.get("/settings/subscriptions/{sub_id}/preview")
def preview(request: Request, session: SessionDep, me: SignedInDep, sub_id: SubId) -> Response:
    sub = subscriptions.get(session, me.org, sub_id)
    base = get_settings(request).base_url
    message, alert_id, object_id = _newest_or_sample(session, me.org, sub, base)
    context: dict[str, object] = {"sub": sub, "sample": alert_id == 0, "webhook": sub.channel == Channel.webhook}
    if sub.channel == Channel.webhook:
        now = now_micros()
        body = events.envelope(0, AlertEventType.created, now, message, alert_id=alert_id,
                               organisation=me.org.slug, object_id=object_id, source=base)
        secrets = [s.secret for s in subscriptions.active_secrets(session, sub.pk, now=now)]
        context["headers"] = webhook.signature_headers(0, body, secrets, datetime.fromtimestamp(now / 1e6, tz=UTC))
        context["payload"] = json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    else:
        context["mail"] = wording.render(message, sub.language, html=False)  # the HTML part is the frame's
    return page(request, "settings_preview.html", context)


# The e-mail's HTML part, framed by the preview page. Its styles are inline, as mail programs need them, which
# the portal's own policy forbids; this document gets a policy of its own instead: inline styles and nothing
# else (no script, no request to anywhere), sandboxed, and framed by the hub's own pages only.
MAIL_POLICY = {"content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                                          "base-uri 'none'; form-action 'none'; frame-ancestors 'self'; sandbox",
               "x-frame-options": "SAMEORIGIN"}


@router.get("/settings/subscriptions/{sub_id}/preview/mail.html")
def preview_html(request: Request, session: SessionDep, me: SignedInDep, sub_id: SubId) -> Response:
    """The HTML part of the preview's e-mail, exactly as sent (an answer link opens the confirmation page,
    which answers nothing until its button is pressed; and a sandboxed frame submits no form)."""
    sub = subscriptions.get(session, me.org, sub_id)
    if sub.channel == Channel.webhook:
        raise NotFound("a webhook has no e-mail to show")
    message, _, _ = _newest_or_sample(session, me.org, sub, get_settings(request).base_url)
    return Response(wording.render(message, sub.language).html, media_type="text/html", headers=MAIL_POLICY)


SAMPLE_OBJECT = "indicator--00000000-0000-4000-8000-000000000000"


def _newest_or_sample(session: Session, org: Org, sub: Subscription, base_url: str) -> tuple[Message, int, str]:
    """(message, alert id, object id): the newest alert as delivery composes it for ``sub``; without any alert
    yet, a sample look-alike warning about the organisation's first domain (alert id 0: nothing to answer)."""
    newest = alerts.page(session, org, limit=1).alerts
    if newest:
        alert = newest[0]
        return compose.message(session, alert, org, sub, base_url=base_url), alert.pk, alert.object_id
    domains = assets.page(session, org, limit=1, kind=AssetKind.domain).assets
    domain = domains[0].value if domains else "example.com"
    sample = Message(kind=AlertKind.lookalike, severity=Severity.high, grade=SourceGrade.probable, tlp="green",
                     organisation=org.name, asset=domain, matched=f"login-{domain}",
                     published_at=datetime.now(tz=UTC), sender=Sender(name="Exchange"),
                     read_url=f"{base_url.rstrip('/')}/inbox", timezone=sub.timezone)
    return sample, 0, SAMPLE_OBJECT
