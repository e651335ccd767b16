"""REST routes of subscriptions and deliveries under ``/api/v1``, and the one-click unsubscribe pages.

An organisation manages its own subscriptions and sees its own deliveries (dead letters included);
csirt and admin organisations may name another with ``org``. The unsubscribe link needs no key:
its GET only shows a button, and the POST behind it (what a mail client's one-click sends, RFC 8058)
switches the category off, so a mail scanner that follows links changes nothing.
"""

from __future__ import annotations

from html import escape
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import HTMLResponse

from exchange.alerts.delivery import bounces, outbox, service, unsubscribe
from exchange.alerts.delivery.models import DeliveryStatus
from exchange.alerts.delivery.schemas import (
    DeliveryOut,
    DeliveryPageOut,
    RotateIn,
    RotateOut,
    SubscriptionIn,
    SubscriptionOut,
    UnreachableOut,
    delivery_out,
    subscription_out,
    unreachable_out,
)
from exchange.assets.service import acts_for_others, target_org
from exchange.core.deps import SessionDep, get_settings
from exchange.core.handlers import ERRORS
from exchange.core.queryparams import INT_MAX, known_only, page_limit, text_path, text_query
from exchange.orgs import audit
from exchange.orgs.auth import CurrentOrg, Writer

router = APIRouter(prefix="/api/v1", tags=["subscriptions"], responses=ERRORS, dependencies=[Depends(known_only)])
OrgSlug = Annotated[str | None, text_query(description="Another organisation's slug (csirt and admin only)",
                                           max_length=64)]
ItemId = Annotated[int, Path(ge=1, le=INT_MAX)]
Token = Annotated[str, text_path(max_length=200)]


@router.get("/subscriptions", summary="An organisation's e-mail and webhook subscriptions",
            response_model=list[SubscriptionOut])
def list_subscriptions(session: SessionDep, caller: CurrentOrg, org: OrgSlug = None) -> list[SubscriptionOut]:
    target = target_org(session, caller, org)
    return [subscription_out(s, target.slug) for s in service.get_all(session, target)]


@router.post("/subscriptions", summary="Subscribe an e-mail address or a webhook to the organisation's alerts",
             response_model=SubscriptionOut, status_code=201)
def add_subscription(request: Request, session: SessionDep, caller: Writer, body: SubscriptionIn) -> SubscriptionOut:
    target = target_org(session, caller.org, body.org)
    sub = service.create(session, target, channel=body.channel, address=body.address, settings=get_settings(request),
                         secret=body.secret, language=body.language, min_severity=body.min_severity,
                         digest=body.digest, timezone=body.timezone, digest_hour=body.digest_hour,
                         categories=body.categories)
    audit.record_request(session, request, caller, "subscription.add", f"{target.slug}/{sub.channel}/{sub.address}")
    return subscription_out(sub, target.slug)


@router.delete("/subscriptions/{sub_id}", summary="Remove a subscription", status_code=204)
def remove_subscription(request: Request, session: SessionDep, caller: Writer, sub_id: ItemId,
                        org: OrgSlug = None) -> Response:
    target = target_org(session, caller.org, org)
    sub = service.get(session, target, sub_id)
    audit.record_request(session, request, caller, "subscription.remove", f"{target.slug}/{sub.channel}/{sub.address}")
    service.delete(session, sub)
    return Response(status_code=204)


@router.post("/subscriptions/{sub_id}/rotate-secret", summary="Add a new webhook signing secret (the old ones "
             "keep signing for a day)", response_model=RotateOut)
def rotate_secret(request: Request, session: SessionDep, caller: Writer, sub_id: ItemId, body: RotateIn,
                  org: OrgSlug = None) -> RotateOut:
    target = target_org(session, caller.org, org)
    sub = service.get(session, target, sub_id)
    secret = service.rotate_secret(session, sub, body.secret)
    audit.record_request(session, request, caller, "subscription.rotate-secret", f"{target.slug}/{sub.address}")
    return RotateOut(secret=secret)


@router.get("/deliveries", summary="Messages sent, waiting, or dead-lettered", response_model=DeliveryPageOut)
def list_deliveries(request: Request, session: SessionDep, caller: CurrentOrg, org: OrgSlug = None,
                    status: Annotated[DeliveryStatus | None, Query(description="Only these (dead: dead letters)")]
                    = None, limit: Annotated[int | None, page_limit()] = None,
                    next_page: Annotated[int | None, Query(alias="next", ge=1, le=INT_MAX,
                                                           description="`next` of the previous page")] = None,
                    ) -> DeliveryPageOut:
    settings = get_settings(request)
    target = target_org(session, caller, org)
    size = min(limit or settings.default_page_size, settings.max_page_size)
    rows = outbox.listing(session, target.pk, status=status, before=next_page, limit=size)
    return DeliveryPageOut(deliveries=[delivery_out(d) for d in rows],
                           next=str(rows[-1].pk) if len(rows) == size else None)


@router.post("/deliveries/{delivery_id}/replay", summary="Send a dead or cancelled message again (same id)",
             response_model=DeliveryOut)
def replay(request: Request, session: SessionDep, caller: Writer, delivery_id: ItemId,
           org: OrgSlug = None) -> DeliveryOut:
    target = target_org(session, caller.org, org)
    delivery = outbox.get(session, target.pk, delivery_id)
    if outbox.replay(session, [delivery]):
        audit.record_request(session, request, caller, "delivery.replay", f"{target.slug}/{delivery.pk}")
        session.refresh(delivery)
    return delivery_out(delivery)


@router.get("/deliveries/unreachable", summary="Organisations with addresses that no longer work (bounced, "
            "410 Gone); reachable=false: alerts reach nobody", response_model=list[UnreachableOut])
def list_unreachable(session: SessionDep, caller: CurrentOrg) -> list[UnreachableOut]:
    """csirt and admin organisations see every organisation; the others their own."""
    found = bounces.unreachable(session, None if acts_for_others(caller) else caller.pk)
    return [unreachable_out(u.org, u.reachable, u.disabled) for u in found]


@router.post("/subscriptions/{sub_id}/clear-bounce", summary="Switch a bounced e-mail address back on once it "
             "works again", response_model=SubscriptionOut)
def clear_bounce(request: Request, session: SessionDep, caller: Writer, sub_id: ItemId,
                 org: OrgSlug = None) -> SubscriptionOut:
    target = target_org(session, caller.org, org)
    sub = service.get(session, target, sub_id)
    bounces.clear(session, sub)
    audit.record_request(session, request, caller, "subscription.clear-bounce", f"{target.slug}/{sub.address}")
    return subscription_out(sub, target.slug)


def _page(title: str, body: str) -> HTMLResponse:
    return HTMLResponse(f"<!doctype html><html lang=en><meta charset=utf-8><title>{escape(title)}</title>"
                        f"<body><h1>{escape(title)}</h1>{body}</body></html>")


# For people and mail clients, not API clients: outside the OpenAPI document.
@router.get("/unsubscribe/{token}", response_class=HTMLResponse, include_in_schema=False)
def unsubscribe_page(session: SessionDep, token: Token) -> HTMLResponse:
    sub, category = unsubscribe.resolve(session, token)
    return _page("Unsubscribe", f"<p>Stop sending <b>{escape(category.value)}</b> alerts to "
                 f"<b>{escape(sub.address)}</b>?</p><form method=post><button type=submit>Unsubscribe</button></form>")


@router.post("/unsubscribe/{token}", response_class=HTMLResponse, include_in_schema=False)
def unsubscribe_now(request: Request, session: SessionDep, token: Token) -> HTMLResponse:
    sub, category = unsubscribe.unsubscribe(session, token)
    audit.record(session, org=None, action="subscription.unsubscribe", target=f"{sub.address}/{category.value}",
                 actor=f"link:{sub.address}", remote_addr=audit.client_address(request))
    return _page("Unsubscribed", f"<p><b>{escape(sub.address)}</b> gets no more {escape(category.value)} alerts.</p>")
