"""Asset pages: the inventory, adding an asset, and proving ownership with copy-paste instructions.

The rules are the assets feature's own: ``assets.service`` normalises and refuses what the API refuses,
and ``assets.verification.verify`` runs the DNS, web-file and mail checks, so the page and the API
cannot disagree about what counts as verified.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from exchange.assets import checks, verification
from exchange.assets import service as assets
from exchange.assets.models import Asset, AssetKind, VerificationMethod
from exchange.core.deps import SessionDep, get_settings
from exchange.core.errors import Forbidden
from exchange.core.queryparams import INT_MAX
from exchange.orgs import audit
from exchange.orgs.models import Scope
from exchange.web.deps import CsrfChecked, SignedInDep, see_other
from exchange.web.render import page
from exchange.web.sessions import SignedIn

router = APIRouter()
PAGE_SIZE = 50
# What an SME adds from the page; the API takes the rest (single addresses, AS numbers, URLs) too.
KINDS = (AssetKind.domain, AssetKind.mail_domain, AssetKind.cidr, AssetKind.software)
# Checks a person can start from the page; mail links and approvals stay with the API and the CSIRT.
PAGE_METHODS = (VerificationMethod.dns, VerificationMethod.http, VerificationMethod.email)
AssetId = Annotated[int, Path(ge=1, le=INT_MAX)]


def _writer(me: SignedIn) -> None:
    if Scope.write not in me.user.role.scopes:
        raise Forbidden("your role may read the inventory but not change it")


@router.get("/assets")
def list_assets(request: Request, session: SessionDep, me: SignedInDep,
                after: Annotated[str | None, Query(max_length=20, pattern=r"^[0-9]+$")] = None) -> Response:
    found = assets.page(session, me.org, limit=PAGE_SIZE, after=after)
    return page(request, "assets.html", {"assets": found.assets, "next": found.next, "kinds": KINDS,
                                         "verified": {a.pk: assets.is_verified(a) for a in found.assets}})


def add(request: Request, session: Session, me: SignedIn, kind: AssetKind, value: str) -> Asset:
    """Add an asset from a page (this one or the first-run wizard), audited as the API's are."""
    _writer(me)
    asset = assets.create(session, me.org, kind, value, settings=get_settings(request))
    audit.record_person(session, request, me.org, me.user, "asset.add", f"{me.org.slug}/{asset.kind}/{asset.value}",
                        "web")
    return asset


@router.post("/assets", dependencies=[CsrfChecked])
def add_asset(request: Request, session: SessionDep, me: SignedInDep, kind: Annotated[AssetKind, Form()],
              value: Annotated[str, Form(min_length=1, max_length=1024)]) -> Response:
    asset = add(request, session, me, kind, value)
    return see_other(request, f"/assets/{asset.pk}")


@router.get("/assets/{asset_id}")
def asset_page(request: Request, session: SessionDep, me: SignedInDep, asset_id: AssetId,
               outcome: Annotated[str | None, Query(max_length=10, pattern=r"^(ok|failed|sent)$")] = None) -> Response:
    asset = assets.get(session, me.org, asset_id)
    kind = AssetKind(asset.kind)
    host = verification.host_of(asset) if kind in assets.NAMED else ""
    return page(request, "asset.html", {
        "asset": asset, "verified": assets.is_verified(asset), "outcome": outcome, "host": host,
        "methods": [m for m in PAGE_METHODS if m in assets.methods(kind)],
        "txt": f"{checks.PREFIX}{asset.challenge}", "well_known": f"https://{host}{checks.WELL_KNOWN}",
        "mailboxes": verification.MAILBOXES})


@router.post("/assets/{asset_id}/verify", dependencies=[CsrfChecked])
def verify(request: Request, session: SessionDep, me: SignedInDep, asset_id: AssetId,
           method: Annotated[VerificationMethod, Form()],
           mailbox: Annotated[str, Form(max_length=32)] = "security") -> Response:
    _writer(me)
    asset = assets.get(session, me.org, asset_id)
    result = verification.verify(session, asset, method, settings=get_settings(request), caller=me.org,
                                 mailbox=mailbox)
    audit.record_person(session, request, me.org, me.user, "asset.verify", f"{asset.kind}/{asset.value}",
                        f"{method.value}: {result.detail} (web)")
    state = "ok" if result.verified else "sent" if result.sent_to else "failed"
    return see_other(request, f"/assets/{asset.pk}?outcome={state}")
