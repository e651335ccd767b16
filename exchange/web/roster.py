"""The SME roster of a CSIRT: every SME of the hub (the data model has no constituency of its own: csirt and admin
organisations act for any organisation, ``assets.service.acts_for_others``), who has not proved its assets
yet, onboarding a new SME, and approving an SME's assets on its behalf.

Onboarding makes the organisation (no API key: it signs in as a person), its owner without a password, its
sector, and mails the owner a one-time sign-in link (``sessions.mail_link``, the sign-in page's own) in the
language chosen for them; approving is ``assets.verification.verify`` with the approval method, the rule
the API applies. Both are audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from exchange.alerts.wording import LANGUAGES
from exchange.assets import service as assets
from exchange.assets import verification
from exchange.assets.models import Asset, AssetKind, OrgProfile, VerificationMethod
from exchange.assets.sectors import NACE_SECTIONS
from exchange.core.deps import SessionDep, get_settings
from exchange.core.errors import Forbidden, NotFound
from exchange.core.queryparams import INT_MAX
from exchange.core.timestamps import now_micros
from exchange.orgs import audit, users
from exchange.orgs import service as orgs
from exchange.orgs.models import Org, Role, Scope, User, UserRole
from exchange.web import sessions
from exchange.web.assetpages import KINDS
from exchange.web.deps import CsrfChecked, SignedInDep, see_other
from exchange.web.models import WebPreference
from exchange.web.render import page, translations
from exchange.web.sessions import SignedIn

router = APIRouter()
PAGE_SIZE = 50
Slug = Annotated[str, Path(max_length=64, pattern=r"^[a-z0-9-]+$")]


@dataclass(frozen=True, slots=True)
class Member:
    org: Org
    sector: str | None
    assets: int
    verified: int  # assets whose ownership is proved and not expired
    people: int


async def keeper(me: SignedInDep) -> SignedIn:
    """The roster is for organisations that act for others (csirt, admin); for others it does not exist."""
    if not assets.acts_for_others(me.org):
        raise NotFound("no such page")
    return me


Keeper = Annotated[SignedIn, Depends(keeper)]


def _writer(me: SignedIn) -> None:
    if Scope.write not in me.user.role.scopes:
        raise Forbidden("your role may read the roster but not change it")


def members(session: Session, *, limit: int, after: int | None, unverified: bool) -> tuple[list[Member], int | None]:
    """SMEs in onboarding order with their asset and people counts, one query; ``unverified``: only those with
    nothing registered yet or an asset whose ownership is not proved (or has expired).

    The counts are subqueries of each organisation (the asset table's (organisation, kind, value) key), so only
    the organisations of the page are counted: a join grouped by organisation counted every SME's assets before
    the limit (6 ms of a 14 ms page at 2,000 SMEs)."""
    now = now_micros()
    proved = and_(Asset.verified_at.is_not(None),
                  or_(Asset.verification_expires_at.is_(None), Asset.verification_expires_at > now))
    mine = Asset.org_pk == Org.pk
    total = select(func.count()).where(mine).correlate(Org).scalar_subquery()
    verified = select(func.count()).where(mine, proved).correlate(Org).scalar_subquery()
    people = select(func.count()).where(User.org_pk == Org.pk).correlate(Org).scalar_subquery()
    query = (select(Org, OrgProfile.sector, total, verified, people)
             .outerjoin(OrgProfile, OrgProfile.org_pk == Org.pk)
             .where(Org.role == Role.sme).order_by(Org.pk).limit(limit + 1))
    if after is not None:
        query = query.where(Org.pk > after)
    if unverified:
        query = query.where(or_(total == 0, total > verified))
    rows = [Member(*row) for row in session.execute(query).all()]
    return rows[:limit], rows[limit - 1].org.pk if len(rows) > limit else None


def _sme(session: Session, slug: str) -> Org:
    org = session.scalar(select(Org).where(Org.slug == slug, Org.role == Role.sme))
    if org is None:
        raise NotFound(f"no SME {slug!r}")
    return org


@router.get("/roster")
def roster(request: Request, session: SessionDep, me: Keeper,
           show: Annotated[Literal["all", "unverified"], Query()] = "all",
           after: Annotated[int | None, Query(ge=0, le=INT_MAX)] = None) -> Response:
    found, more = members(session, limit=PAGE_SIZE, after=after, unverified=show == "unverified")
    return page(request, "roster.html", {"members": found, "next": more, "show": show, "sectors": NACE_SECTIONS,
                                         "languages": LANGUAGES})


@router.post("/roster", dependencies=[CsrfChecked])
def onboard(request: Request, session: SessionDep, me: Keeper, name: Annotated[str, Form(min_length=2, max_length=200)],
            email: Annotated[str, Form(max_length=320)], sector: Annotated[str, Form(max_length=1)] = "",
            language: Annotated[str, Form(max_length=8)] = "en") -> Response:
    _writer(me)
    settings = get_settings(request)
    language = language if language in LANGUAGES else "en"
    org = orgs.create_org(session, name=" ".join(name.split()), role=Role.sme)
    user = users.create(session, org, email=email, role=UserRole.owner)
    session.add(WebPreference(user_pk=user.pk, language=language, updated_at=now_micros()))
    if sector:
        assets.set_profile(session, org, sector=sector, country=None)
    _ = translations(language).gettext
    sessions.mail_link(
        session, user.email, settings=settings, subject=_("Welcome to the threat-information exchange"),
        body=_("%(csirt)s has registered %(org)s on the threat-information exchange at %(site)s, so that you are "
               "warned about threats to your domains, addresses and software, in plain words. Sign in with this "
               "link (valid %(minutes)s minutes, once), then tell us what to watch:")
        % {"csirt": me.org.name, "org": org.name, "site": settings.base_url, "minutes": settings.web_link_minutes}
        + "\n\n{link}\n\n" + _("If the link has expired, ask for a new one on the sign-in page with this address."))
    audit.record_person(session, request, me.org, me.user, "org.onboard", org.slug,
                        f"owner {user.email} (web)")
    return see_other(request, f"/roster/{org.slug}?onboarded=true")


@router.get("/roster/{slug}")
def member(request: Request, session: SessionDep, me: Keeper, slug: Slug,
           onboarded: Annotated[bool, Query()] = False, approved: Annotated[bool, Query()] = False) -> Response:
    org = _sme(session, slug)
    found = assets.page(session, org, limit=500)
    people = users.of_org(session, org)
    profile = assets.profile(session, org)
    return page(request, "roster_member.html", {
        "org": org, "assets": found.assets, "more": found.next is not None, "people": people,
        "sector": profile.sector if profile else None, "sectors": NACE_SECTIONS, "onboarded": onboarded,
        "approved": approved, "verified": {a.pk: assets.is_verified(a) for a in found.assets},
        "approvable": {a.pk for a in found.assets if VerificationMethod.approval in assets.methods(AssetKind(a.kind))},
        "kinds": KINDS})


@router.post("/roster/{slug}/assets", dependencies=[CsrfChecked])
def add_asset(request: Request, session: SessionDep, me: Keeper, slug: Slug, kind: Annotated[AssetKind, Form()],
              value: Annotated[str, Form(min_length=1, max_length=1024)]) -> Response:
    """Register an asset for the SME (the assets service lets csirt and admin organisations act for others)."""
    _writer(me)
    org = _sme(session, slug)
    asset = assets.create(session, org, kind, value, settings=get_settings(request))
    audit.record_person(session, request, me.org, me.user, "asset.add", f"{org.slug}/{asset.kind}/{asset.value}",
                        f"web, on behalf of {org.slug}")
    return see_other(request, f"/roster/{org.slug}")


@router.post("/roster/{slug}/assets/{asset_id}/approve", dependencies=[CsrfChecked])
def approve(request: Request, session: SessionDep, me: Keeper, slug: Slug,
            asset_id: Annotated[int, Path(ge=1, le=INT_MAX)]) -> Response:
    _writer(me)
    org = _sme(session, slug)
    asset = assets.get(session, me.org, asset_id)
    if asset.org_pk != org.pk:
        raise NotFound(f"no asset {asset_id}")
    result = verification.verify(session, asset, VerificationMethod.approval, settings=get_settings(request),
                                 caller=me.org)
    audit.record_person(session, request, me.org, me.user, "asset.verify", f"{org.slug}/{asset.kind}/{asset.value}",
                        f"approval: {result.detail} (web, on behalf of {org.slug})")
    return see_other(request, f"/roster/{org.slug}?approved=true")
