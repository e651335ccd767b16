"""Organisations, their users and their API keys: the hub admin's list and creation form, and one organisation's
page, which its own owners may use too (``exchange.orgs.permissions.managed``: another's is a 404 to them).

A new key is shown once: in the answer to the form that made it (no redirect, so no later GET has it; every
answer of the hub is ``no-store``, so the browser keeps no copy). The table keeps only a hash of it, so no later
page could show it again.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import Response

from exchange.core.deps import SessionDep
from exchange.orgs import audit, permissions, service, users
from exchange.orgs.models import Role, Scope, UserRole
from exchange.orgs.service import IssuedKey
from exchange.web.admin.access import HubAdminPage, OrgAdminPage
from exchange.web.deps import CsrfChecked, see_other
from exchange.web.render import page

router = APIRouter()
PAGE_SIZE = 100
Slug = Annotated[str, Path(max_length=64)]
Email = Annotated[str, Path(max_length=320)]
LIFETIMES = ("7", "30", "90", "365", "never")  # days; the API's default is 90


@router.get("/admin/orgs")
def list_orgs(request: Request, session: SessionDep, caller: HubAdminPage,
              after: Annotated[str | None, Query(max_length=64)] = None) -> Response:
    found = service.get_page(session, after=after, limit=PAGE_SIZE + 1)
    return page(request, "admin_orgs.html", {"orgs": found[:PAGE_SIZE], "roles": list(Role),
                                             "next": found[PAGE_SIZE - 1].slug if len(found) > PAGE_SIZE else None})


@router.post("/admin/orgs", dependencies=[CsrfChecked])
def create_org(request: Request, session: SessionDep, caller: HubAdminPage,
               name: Annotated[str, Form(min_length=1, max_length=200)], role: Annotated[Role, Form()],
               slug: Annotated[str, Form(max_length=48, pattern=r"^[a-z0-9-]*$")] = "") -> Response:
    issued = service.create(session, name=name, role=role, slug=slug or None)
    audit.record_request(session, request, caller, "org.create", issued.org.slug, f"role {role.value}")
    return _shown_once(request, issued)


@router.get("/admin/orgs/{slug}")
def org_page(request: Request, session: SessionDep, caller: OrgAdminPage, slug: Slug) -> Response:
    org = permissions.managed(session, caller, slug)
    people = users.of_org(session, org)
    return page(request, "admin_org.html", {
        "org": org, "people": people, "holders": {u.pk: u.email for u in people},
        "keys": service.keys_of(session, org), "user_roles": list(UserRole), "scopes": list(Scope),
        "lifetimes": LIFETIMES, "hub_admin": caller.org.is_hub_admin})


@router.post("/admin/orgs/{slug}/users", dependencies=[CsrfChecked])
def add_user(request: Request, session: SessionDep, caller: OrgAdminPage, slug: Slug,
             email: Annotated[str, Form(min_length=3, max_length=320)], role: Annotated[UserRole, Form()],
             name: Annotated[str, Form(max_length=200)] = "",
             password: Annotated[str, Form(max_length=1000)] = "") -> Response:
    user = users.create(session, permissions.managed(session, caller, slug), email=email, role=role, name=name,
                        password=password or None)
    audit.record_request(session, request, caller, "user.create", user.email, f"role {user.role.value} in {slug}")
    return see_other(request, f"/admin/orgs/{slug}")


@router.post("/admin/orgs/{slug}/users/{email}/role", dependencies=[CsrfChecked])
def change_role(request: Request, session: SessionDep, caller: OrgAdminPage, slug: Slug, email: Email,
                role: Annotated[UserRole, Form()]) -> Response:
    user = users.get(session, permissions.managed(session, caller, slug), email)
    users.set_role(user, role)
    audit.record_request(session, request, caller, "user.role", user.email, role.value)
    return see_other(request, f"/admin/orgs/{slug}")


@router.post("/admin/orgs/{slug}/users/{email}/disable", dependencies=[CsrfChecked])
def disable_user(request: Request, session: SessionDep, caller: OrgAdminPage, slug: Slug, email: Email) -> Response:
    user = users.get(session, permissions.managed(session, caller, slug), email)
    users.disable(user)
    audit.record_request(session, request, caller, "user.disable", user.email)
    return see_other(request, f"/admin/orgs/{slug}")


@router.post("/admin/orgs/{slug}/keys", dependencies=[CsrfChecked])
def issue_key(request: Request, session: SessionDep, caller: OrgAdminPage, slug: Slug,
              scopes: Annotated[list[Scope] | None, Form()] = None,
              lifetime: Annotated[str, Form(pattern="^(" + "|".join(LIFETIMES) + ")$")] = "90",
              name: Annotated[str, Form(max_length=100)] = "",
              holder: Annotated[str, Form(max_length=320)] = "") -> Response:
    issued = permissions.issue(session, caller, permissions.managed(session, caller, slug), name=name,
                               scopes=frozenset(scopes or ()), holder_email=holder or None,
                               expires_in_days=None if lifetime == "never" else int(lifetime))
    audit.record_request(session, request, caller, "key.issue", f"{slug}/{issued.key.prefix}",
                         permissions.key_detail(session, issued))
    return _shown_once(request, issued)


@router.post("/admin/orgs/{slug}/keys/{prefix}/revoke", dependencies=[CsrfChecked])
def revoke_key(request: Request, session: SessionDep, caller: OrgAdminPage, slug: Slug,
               prefix: Annotated[str, Path(max_length=16)]) -> Response:
    service.revoke_key(session, service.key_by_prefix(session, permissions.managed(session, caller, slug), prefix))
    audit.record_request(session, request, caller, "key.revoke", f"{slug}/{prefix}")
    return see_other(request, f"/admin/orgs/{slug}")


def _shown_once(request: Request, issued: IssuedKey) -> Response:
    """The one page that shows a key: the answer to the form, never to be had again."""
    return page(request, "admin_key.html", {"org": issued.org, "issued": issued.key, "secret": issued.api_key})
