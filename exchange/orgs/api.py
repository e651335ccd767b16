"""REST routes for organisations, users, API keys and the audit log (``/api/v1``).

An organisation manages itself with a key holding the ``admin`` scope; hub admins manage everyone.
Every change is written to the audit log in the same transaction as the change.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from exchange.core.deps import SessionDep
from exchange.core.errors import BadRequest
from exchange.core.handlers import ERRORS
from exchange.core.queryparams import INT_MAX, known_only, page_limit, text_path, text_query
from exchange.core.timestamps import to_micros
from exchange.orgs import audit, permissions, service, users
from exchange.orgs.auth import CurrentPrincipal, HubAdmin, OrgAdmin
from exchange.orgs.models import User
from exchange.orgs.permissions import key_detail, managed, may_hand_out
from exchange.orgs.schemas import (
    AuditPageOut,
    CreatedOrgOut,
    IssuedKeyOut,
    KeyIn,
    KeyOut,
    MeOut,
    OrgIn,
    OrgOut,
    UserIn,
    UserOut,
    UserPatch,
    audit_out,
    issued_out,
    key_out,
    org_out,
    user_out,
)

router = APIRouter(prefix="/api/v1", tags=["organisations"], responses=ERRORS, dependencies=[Depends(known_only)])
Slug = Annotated[str, text_path(max_length=64)]


@router.get("/me", summary="Who this key stands for", response_model=MeOut)
def me(caller: CurrentPrincipal) -> MeOut:
    return MeOut(org=org_out(caller.org), user=caller.user.email if caller.user else None,
                 scopes=sorted(caller.scopes))


@router.get("/orgs", summary="List organisations (hub admins)", response_model=list[OrgOut])
def list_orgs(session: SessionDep, _caller: HubAdmin) -> list[OrgOut]:
    return [org_out(o) for o in service.get_all(session)]


@router.post("/orgs", summary="Create an organisation (hub admins)", response_model=CreatedOrgOut, status_code=201)
def create_org(request: Request, session: SessionDep, caller: HubAdmin, body: OrgIn) -> CreatedOrgOut:
    issued = service.create(session, name=body.name, role=body.role, slug=body.slug)
    audit.record_request(session, request, caller, "org.create", issued.org.slug, f"role {body.role.value}")
    return CreatedOrgOut(org=org_out(issued.org), key=issued_out(issued))


@router.get("/orgs/{slug}/users", summary="Users of an organisation", response_model=list[UserOut])
def list_users(session: SessionDep, caller: OrgAdmin, slug: Slug) -> list[UserOut]:
    return [user_out(u) for u in users.of_org(session, managed(session, caller, slug))]


@router.post("/orgs/{slug}/users", summary="Add a user", response_model=UserOut, status_code=201)
def add_user(request: Request, session: SessionDep, caller: OrgAdmin, slug: Slug, body: UserIn) -> UserOut:
    org = managed(session, caller, slug)
    user = users.create(session, org, email=body.email, role=body.role, name=body.name, password=body.password)
    audit.record_request(session, request, caller, "user.create", user.email, f"role {user.role.value} in {slug}")
    return user_out(user)


@router.patch("/orgs/{slug}/users/{email}", summary="Change a user's role, or disable them", response_model=UserOut)
def patch_user(request: Request, session: SessionDep, caller: OrgAdmin, slug: Slug,
               email: Annotated[str, text_path(max_length=320)], body: UserPatch) -> UserOut:
    user = users.get(session, managed(session, caller, slug), email)
    if body.role is not None:
        users.set_role(user, body.role)
        audit.record_request(session, request, caller, "user.role", user.email, body.role.value)
    if body.disabled:
        users.disable(user)
        audit.record_request(session, request, caller, "user.disable", user.email)
    return user_out(user)


@router.get("/orgs/{slug}/keys", summary="API keys of an organisation (never the keys themselves)",
            response_model=list[KeyOut])
def list_keys(session: SessionDep, caller: OrgAdmin, slug: Slug) -> list[KeyOut]:
    org = managed(session, caller, slug)
    holders = {u.pk: u for u in users.of_org(session, org)}
    return [key_out(k, holders.get(k.user_pk) if k.user_pk else None) for k in service.keys_of(session, org)]


@router.post("/orgs/{slug}/keys", summary="Issue an API key (shown once)", response_model=IssuedKeyOut,
             status_code=201)
def issue_key(request: Request, session: SessionDep, caller: OrgAdmin, slug: Slug, body: KeyIn) -> IssuedKeyOut:
    issued = permissions.issue(session, caller, managed(session, caller, slug), scopes=frozenset(body.scopes),
                               holder_email=body.user, expires_in_days=body.expires_in_days, name=body.name)
    audit.record_request(session, request, caller, "key.issue", f"{slug}/{issued.key.prefix}",
                         key_detail(session, issued))
    return issued_out(issued)


@router.post("/orgs/{slug}/keys/{prefix}/rotate", summary="Replace a key by a new one (shown once)",
             response_model=IssuedKeyOut, status_code=201)
def rotate_key(request: Request, session: SessionDep, caller: OrgAdmin, slug: Slug,
               prefix: Annotated[str, text_path(max_length=16)]) -> IssuedKeyOut:
    old = service.key_by_prefix(session, managed(session, caller, slug), prefix)
    may_hand_out(caller, service.parse_scopes(old.scopes), session.get(User, old.user_pk) if old.user_pk else None)
    issued = service.rotate_key(session, slug=slug, prefix=prefix)
    audit.record_request(session, request, caller, "key.rotate", f"{slug}/{prefix}", f"new key {issued.key.prefix}")
    return issued_out(issued)


@router.delete("/orgs/{slug}/keys/{prefix}", summary="Revoke a key", status_code=204)
def revoke_key(request: Request, session: SessionDep, caller: OrgAdmin, slug: Slug,
               prefix: Annotated[str, text_path(max_length=16)]) -> Response:
    service.revoke_key(session, service.key_by_prefix(session, managed(session, caller, slug), prefix))
    audit.record_request(session, request, caller, "key.revoke", f"{slug}/{prefix}")
    return Response(status_code=204)


@router.get("/audit", summary="The audit log (hub admins)", response_model=AuditPageOut)
def audit_log(
    request: Request,
    session: SessionDep,
    _caller: HubAdmin,
    since: Annotated[str | None, text_query(description="Only entries at or after this timestamp")] = None,
    action: Annotated[str | None, text_query(max_length=64, description="Only this action, e.g. org.create")] = None,
    org: Annotated[str | None, text_query(max_length=64, description="Only this organisation's actions (slug)")]
    = None,
    before: Annotated[int | None, Query(ge=1, le=INT_MAX, description="`id` of the last entry of the previous page")]
    = None,
    limit: Annotated[int | None, page_limit()] = None,
) -> AuditPageOut:
    size = min(limit or request.app.state.settings.default_page_size, request.app.state.settings.max_page_size)
    since_us = to_micros(since) if since is not None else None
    if since is not None and since_us is None:
        raise BadRequest("'since' must be a timestamp like 2024-01-31T12:00:00Z")
    query = audit.entries(since=since_us, action=action, org_slug=org, before_pk=before).limit(size + 1)
    rows = list(session.scalars(query))
    return AuditPageOut(entries=[audit_out(e) for e in rows[:size]], more=len(rows) > size)
