"""REST routes of the asset inventory under ``/api/v1``: parse, authorise, call the service, serialise.

An organisation manages its own assets; csirt and admin organisations may name another with ``org``
(``service.target_org``). The confirmation link mailed for ownership is the one route without a key:
its GET only shows a button, and the POST behind it confirms, so a mail scanner that follows links
cannot confirm on the owner's behalf.
"""

from __future__ import annotations

from html import escape
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from exchange.assets import service, verification
from exchange.assets.models import Asset, AssetKind
from exchange.assets.schemas import (
    AssetIn,
    AssetOut,
    AssetPageOut,
    ProfileIn,
    ProfileOut,
    VerifyIn,
    VerifyOut,
    asset_out,
    profile_out,
)
from exchange.core.deps import SessionDep, SettingsDep
from exchange.core.handlers import ERRORS
from exchange.core.queryparams import INT_MAX, known_only, page_limit, text_path, text_query
from exchange.orgs import audit
from exchange.orgs.auth import CurrentOrg, Writer
from exchange.orgs.models import Org

router = APIRouter(prefix="/api/v1", tags=["assets"], responses=ERRORS, dependencies=[Depends(known_only)])
OrgSlug = Annotated[str | None, text_query(description="Another organisation's slug (csirt and admin only)",
                                           max_length=64)]
AssetId = Annotated[int, Path(ge=1, le=INT_MAX)]
Token = Annotated[str, text_path(max_length=100)]


def _out(session: Session, asset: Asset) -> AssetOut:
    owner = session.get(Org, asset.org_pk)
    approver = session.get(Org, asset.verified_by) if asset.verified_by is not None else None
    return asset_out(asset, owner.slug if owner else "", approver.slug if approver else None)


@router.get("/assets", summary="List an organisation's assets", response_model=AssetPageOut)
def list_assets(settings: SettingsDep, session: SessionDep, caller: CurrentOrg, org: OrgSlug = None,
                kind: Annotated[AssetKind | None, Query(description="Only assets of this kind")] = None,
                limit: Annotated[int | None, page_limit()] = None,
                next_page: Annotated[str | None, text_query(alias="next", description="`next` of the previous page",
                                                            max_length=32)] = None) -> AssetPageOut:
    page = service.page(session, service.target_org(session, caller, org), after=next_page, kind=kind,
                        limit=min(limit or settings.default_page_size, settings.max_page_size))
    return AssetPageOut(assets=[_out(session, a) for a in page.assets], more=page.next is not None, next=page.next)


@router.post("/assets", summary="Add an asset (normalised; refused when public suffix, reserved or too wide)",
             response_model=AssetOut, status_code=201)
def add_asset(request: Request, settings: SettingsDep, session: SessionDep, caller: Writer, body: AssetIn) -> AssetOut:
    owner = service.target_org(session, caller.org, body.org)
    asset = service.create(session, owner, body.kind, body.value, settings=settings)
    audit.record_request(session, request, caller, "asset.add", f"{owner.slug}/{asset.kind}/{asset.value}")
    return _out(session, asset)


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(f"<!doctype html><html lang=en><meta charset=utf-8><title>{escape(title)}</title>"
                        f"<body><h1>{escape(title)}</h1>{body}</body></html>", status_code=status)


# The two pages of the mailed link are for people, not API clients: outside the OpenAPI document.
@router.get("/assets/confirm/{token}", response_class=HTMLResponse, include_in_schema=False)
def confirm_page(session: SessionDep, token: Token) -> HTMLResponse:
    asset = verification.pending(session, token)
    owner = session.get(Org, asset.org_pk)
    return _page("Confirm ownership",
                 f"<p>{escape(owner.name if owner else '')} registered <b>{escape(asset.value)}</b> to be warned "
                 "about threats that concern it. Confirm that it belongs to them:</p>"
                 '<form method=post><button type=submit>Confirm</button></form>')


@router.post("/assets/confirm/{token}", response_class=HTMLResponse, include_in_schema=False)
def confirm(request: Request, settings: SettingsDep, session: SessionDep, token: Token) -> HTMLResponse:
    asset = verification.confirm(session, token, settings=settings)
    owner = session.get(Org, asset.org_pk)
    audit.record(session, org=owner, action="asset.confirm", target=f"{asset.kind}/{asset.value}",
                 detail=f"link mailed to {asset.link_sent_to}", actor=f"link:{asset.link_sent_to}",
                 remote_addr=audit.client_address(request))
    return _page("Confirmed", f"<p><b>{escape(asset.value)}</b> is now verified.</p>")


@router.get("/assets/{asset_id}", summary="One asset, with how to verify it", response_model=AssetOut)
def get_asset(session: SessionDep, caller: CurrentOrg, asset_id: AssetId) -> AssetOut:
    return _out(session, service.get(session, caller, asset_id))


@router.delete("/assets/{asset_id}", summary="Remove an asset", status_code=204)
def remove_asset(request: Request, session: SessionDep, caller: Writer, asset_id: AssetId) -> Response:
    asset = service.get(session, caller.org, asset_id)
    target = f"{asset.kind}/{asset.value}"
    service.remove(session, asset)
    audit.record_request(session, request, caller, "asset.remove", target)
    return Response(status_code=204)


@router.post("/assets/{asset_id}/verify", summary="Check ownership now, send a confirmation link, or approve",
             response_model=VerifyOut)
def verify_asset(request: Request, settings: SettingsDep, session: SessionDep, caller: Writer, asset_id: AssetId,
                 body: VerifyIn) -> VerifyOut:
    asset = service.get(session, caller.org, asset_id)
    outcome = verification.verify(session, asset, body.method, settings=settings, caller=caller.org,
                                  mailbox=body.mailbox)
    audit.record_request(session, request, caller, "asset.verify", f"{asset.kind}/{asset.value}",
                         f"{body.method.value}: {outcome.detail}")
    return VerifyOut(asset=_out(session, asset), verified=outcome.verified, detail=outcome.detail,
                     sent_to=outcome.sent_to)


@router.get("/profile", summary="The organisation's sector and country", response_model=ProfileOut)
def get_profile(session: SessionDep, caller: CurrentOrg, org: OrgSlug = None) -> ProfileOut:
    target = service.target_org(session, caller, org)
    return profile_out(target.slug, service.profile(session, target))


@router.put("/profile", summary="Set the organisation's sector (NACE section) and country", response_model=ProfileOut)
def put_profile(request: Request, session: SessionDep, caller: Writer, body: ProfileIn,
                org: OrgSlug = None) -> ProfileOut:
    target = service.target_org(session, caller.org, org)
    row = service.set_profile(session, target, sector=body.sector, country=body.country)
    audit.record_request(session, request, caller, "profile.set", target.slug, f"sector {row.sector}, "
                         f"country {row.country}")
    return profile_out(target.slug, row)
