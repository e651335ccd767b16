"""The first-run wizard of an SME: domains, mail domains, public addresses, software, sector and language, and
who gets alerts, one plain form per step.

Each step adds through the same code as the other pages (``assetpages.add`` -> ``assets.service.create``,
``settingspage.subscribe`` -> the subscriptions service, ``assets.service.set_profile``), so the wizard
refuses what the API refuses, with the API's words. What a step added is the wizard's state: it is read
back from the inventory, so leaving and coming back loses nothing; the step reached is kept in a cookie
so ``/welcome`` resumes there. Every step can be skipped; an organisation that has no asset yet sees the
wizard's welcome in its empty inbox until someone says "not now" (``due``).
"""

from __future__ import annotations

import enum
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from exchange.alerts.delivery import service as subscriptions
from exchange.alerts.models import Severity
from exchange.alerts.wording import LANGUAGES
from exchange.assets import sectors
from exchange.assets import service as assets
from exchange.assets.models import AssetKind
from exchange.core.deps import SessionDep
from exchange.core.errors import BadRequest, Conflict, ExchangeError, Forbidden
from exchange.orgs import audit
from exchange.orgs.models import Role, Scope
from exchange.web import wizard_software
from exchange.web.assetpages import add
from exchange.web.cookies import set_cookie
from exchange.web.deps import CsrfChecked, SignedInDep, see_other
from exchange.web.render import page
from exchange.web.sessions import SignedIn
from exchange.web.settingspage import subscribe

router = APIRouter()
COOKIE = "exchange_welcome"  # the step reached, or "done" once someone said "not now" or finished
PICKS = 30  # products listed for one search


class Step(enum.StrEnum):
    domains = "domains"
    mail = "mail"
    networks = "networks"
    software = "software"
    profile = "profile"
    alerts = "alerts"
    done = "done"


ORDER = list(Step)
ASSET_STEPS = {Step.domains: AssetKind.domain, Step.mail: AssetKind.mail_domain, Step.networks: AssetKind.cidr,
               Step.software: AssetKind.software}
# What each step lists: a "range" of one address is stored as that address (assets.normalise).
LISTED = {**{step: (kind,) for step, kind in ASSET_STEPS.items()},
          Step.networks: (AssetKind.cidr, AssetKind.ipv4, AssetKind.ipv6)}
SHOWN = 200  # assets read back per step: a first run adds a handful
Value = Annotated[str, Form(min_length=1, max_length=1024)]


def due(request: Request, session: Session, me: SignedIn) -> bool:
    """The inbox shows the welcome instead: an SME member who may add assets, none yet, wizard not put off."""
    return (me.org.role is Role.sme and Scope.write in me.user.role.scopes
            and request.cookies.get(COOKIE) != Step.done.value and assets.count(session, me.org) == 0)


def welcome(request: Request) -> Response:
    return page(request, "wizard_start.html", {"steps": ORDER[:-1]})


def _neighbours(step: Step) -> tuple[Step | None, Step | None]:
    at = ORDER.index(step)
    return (ORDER[at - 1] if at else None), (ORDER[at + 1] if at + 1 < len(ORDER) else None)


def _show(request: Request, session: Session, me: SignedIn, step: Step, *, status: int = 200,
          error: str | None = None, extra: dict[str, Any] | None = None) -> Response:
    back, forward = _neighbours(step)
    context: dict[str, Any] = {"step": step, "steps": ORDER[:-1], "back": back, "forward": forward,
                               "error": error, "can_write": Scope.write in me.user.role.scopes, **(extra or {})}
    inventory = assets.page(session, me.org, limit=SHOWN).assets if step in LISTED or step is Step.done else []
    if step in LISTED:
        context["added"] = [a for a in inventory if a.kind in LISTED[step]]
    if step is Step.profile:
        profile = assets.profile(session, me.org)
        context.update(sectors=sectors.NACE_SECTIONS, sector=profile.sector if profile else None,
                       languages=LANGUAGES)
    if step is Step.alerts:
        context.update(subscriptions=subscriptions.get_all(session, me.org), languages=LANGUAGES,
                       severities=list(Severity), can_manage=Scope.admin in me.user.role.scopes)
    if step is Step.done:
        context["counts"] = {step_.value: sum(a.kind in kinds for a in inventory) for step_, kinds in LISTED.items()}
    template = "wizard_assets.html" if step in ASSET_STEPS and step is not Step.software else f"wizard_{step}.html"
    response = page(request, template, context, status=status)
    set_cookie(request, response, COOKIE, step.value, max_age=365 * 86_400)
    return response


def _refused(request: Request, session: Session, me: SignedIn, step: Step, error: ExchangeError,
             extra: dict[str, Any] | None = None) -> Response:
    """The step again, with the service's own message, when it refused what was typed (nothing was added)."""
    return _show(request, session, me, step, status=error.status, error=error.description, extra=extra)


@router.get("/welcome")
def resume(request: Request, me: SignedInDep) -> Response:
    reached = request.cookies.get(COOKIE, "")
    return see_other(request, f"/welcome/{reached if reached in Step.__members__ else ORDER[0]}")


@router.post("/welcome/later", dependencies=[CsrfChecked])
def later(request: Request, me: SignedInDep) -> Response:
    response = see_other(request, "/inbox")
    set_cookie(request, response, COOKIE, Step.done.value, max_age=365 * 86_400)
    return response


@router.get("/welcome/software")
def software_step(request: Request, session: SessionDep, me: SignedInDep,
                  q: Annotated[str, Query(max_length=100, pattern=r"^[^\x00]*$")] = "") -> Response:
    found = wizard_software.search(session, me.org, q, limit=PICKS)
    return _show(request, session, me, Step.software, extra={"q": q, "found": found,
                                                               "short": 0 < len(q.strip()) < wizard_software.MIN_TEXT})


@router.get("/welcome/{step}")
def step_page(request: Request, session: SessionDep, me: SignedInDep, step: Step) -> Response:
    return _show(request, session, me, step)


@router.post("/welcome/software", dependencies=[CsrfChecked])
def add_software(request: Request, session: SessionDep, me: SignedInDep,
                 product: Annotated[str, Form(min_length=3, max_length=300, pattern=r"^[^:\s]+:[^:\s]+$")],
                 version: Annotated[str, Form(max_length=64, pattern=r"^[A-Za-z0-9._+~-]*$")] = "") -> Response:
    try:
        add(request, session, me, AssetKind.software, wizard_software.cpe(product, version))
    except (BadRequest, Conflict) as error:
        return _refused(request, session, me, Step.software, error, extra={"q": "", "found": [], "short": False})
    return see_other(request, "/welcome/software")


@router.post("/welcome/profile", dependencies=[CsrfChecked])
def set_sector(request: Request, session: SessionDep, me: SignedInDep,
               sector: Annotated[str, Form(max_length=2)]) -> Response:
    if Scope.write not in me.user.role.scopes:
        raise Forbidden("your role may read the profile but not change it")
    row = assets.set_profile(session, me.org, sector=sector, country=None)
    audit.record_person(session, request, me.org, me.user, "profile.set", me.org.slug,
                        f"sector {row.sector} (web)")
    return see_other(request, "/welcome/alerts")


@router.post("/welcome/alerts", dependencies=[CsrfChecked])
def add_recipient(request: Request, session: SessionDep, me: SignedInDep,
                  address: Annotated[str, Form(min_length=3, max_length=320)],
                  language: Annotated[str, Form(max_length=8)] = "en",
                  min_severity: Annotated[Severity, Form()] = Severity.low) -> Response:
    try:
        subscribe(request, session, me, address, language, min_severity)
    except (BadRequest, Conflict) as error:
        return _refused(request, session, me, Step.alerts, error)
    return see_other(request, "/welcome/alerts")


@router.post("/welcome/{step}", dependencies=[CsrfChecked])
def add_asset(request: Request, session: SessionDep, me: SignedInDep, step: Step, value: Value) -> Response:
    if step not in ASSET_STEPS or step is Step.software:
        return see_other(request, f"/welcome/{step}")
    try:
        add(request, session, me, ASSET_STEPS[step], value)
    except (BadRequest, Conflict) as error:
        return _refused(request, session, me, step, error)
    return see_other(request, f"/welcome/{step}")
