"""Sharing groups (who TLP:AMBER reaches) and collections with their grants (who may read and write which
collection), for the hub admin. The rules are the sharing services' own: ``groups.require_enroller`` and
``require_manager`` for members, ``catalog.require_granter`` for grants, ``catalog.in_root`` and ``rights`` for
what a collection is open to."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import Response

from exchange.core.deps import SessionDep
from exchange.orgs import audit
from exchange.orgs import service as orgs
from exchange.sharing import catalog, groups
from exchange.stix.tlp import Tlp
from exchange.web.admin.access import HubAdminPage
from exchange.web.deps import CsrfChecked, see_other
from exchange.web.render import page

router = APIRouter()
GroupId = Annotated[str, Path(max_length=64)]
CollectionId = Annotated[str, Path(max_length=64)]
Slug = Annotated[str, Form(min_length=1, max_length=64)]


@router.get("/admin/groups")
def list_groups(request: Request, session: SessionDep, caller: HubAdminPage) -> Response:
    return page(request, "admin_groups.html", {"groups": groups.visible_to(session, caller.org)})


@router.post("/admin/groups", dependencies=[CsrfChecked])
def create_group(request: Request, session: SessionDep, caller: HubAdminPage,
                 name: Annotated[str, Form(min_length=1, max_length=200)],
                 description: Annotated[str, Form(max_length=2000)] = "") -> Response:
    groups.require_coordinator(caller.org)
    group = groups.create(session, caller.org, name=name, description=description)
    audit.record_request(session, request, caller, "group.create", group.id, name)
    return see_other(request, f"/admin/groups/{group.id}")


@router.get("/admin/groups/{group_id}")
def group_page(request: Request, session: SessionDep, caller: HubAdminPage, group_id: GroupId) -> Response:
    group = groups.get_visible(session, caller.org, group_id)
    return page(request, "admin_group.html", {"group": group, "members": groups.members(session, group)})


@router.post("/admin/groups/{group_id}/members", dependencies=[CsrfChecked])
def add_member(request: Request, session: SessionDep, caller: HubAdminPage, group_id: GroupId, slug: Slug) -> Response:
    group = groups.get_visible(session, caller.org, group_id)
    groups.require_enroller(group, caller.org)
    groups.add_member(session, group, orgs.get_by_slug(session, slug))
    audit.record_request(session, request, caller, "group.add_member", group.id, slug)
    return see_other(request, f"/admin/groups/{group.id}")


@router.post("/admin/groups/{group_id}/members/{slug}/remove", dependencies=[CsrfChecked])
def remove_member(request: Request, session: SessionDep, caller: HubAdminPage, group_id: GroupId,
                  slug: Annotated[str, Path(max_length=64)]) -> Response:
    group = groups.get_visible(session, caller.org, group_id)
    groups.require_manager(group, caller.org)
    groups.remove_member(session, group, orgs.get_by_slug(session, slug))
    audit.record_request(session, request, caller, "group.remove_member", group.id, slug)
    return see_other(request, f"/admin/groups/{group.id}")


@router.get("/admin/collections")
def list_collections(request: Request, session: SessionDep, caller: HubAdminPage) -> Response:
    return page(request, "admin_collections.html", {
        "collections": [(root, c) for root, c, _ in catalog.everywhere(session, caller.org)],
        "roots": catalog.api_roots(session), "levels": list(Tlp), "groups": groups.visible_to(session, caller.org)})


@router.post("/admin/collections", dependencies=[CsrfChecked])
def create_collection(request: Request, session: SessionDep, caller: HubAdminPage,
                      title: Annotated[str, Form(min_length=1, max_length=200)],
                      api_root: Annotated[str, Form(max_length=64)] = catalog.DEFAULT_API_ROOT,
                      description: Annotated[str, Form(max_length=2000)] = "",
                      default_tlp: Annotated[Tlp, Form()] = Tlp.green,
                      public: Annotated[bool, Form()] = False, members_read: Annotated[bool, Form()] = False,
                      publishers_write: Annotated[bool, Form()] = False,
                      group: Annotated[str, Form(max_length=64)] = "") -> Response:
    """As ``POST /api/v1/collections``: owned by the caller's organisation, a group's audience when one is named.
    Unticked boxes are not sent by browsers, so every box defaults to off here."""
    created = catalog.create(session, title=title, api_root=api_root, description=description,
                             default_tlp=default_tlp, public=public, members_read=members_read,
                             publishers_write=publishers_write, owner=caller.org,
                             sharing_group=groups.get_visible(session, caller.org, group) if group else None)
    audit.record_request(session, request, caller, "collection.create", created.id, title)
    return see_other(request, f"/admin/collections/{created.id}")


@router.get("/admin/collections/{collection_id}")
def collection_page(request: Request, session: SessionDep, caller: HubAdminPage,
                    collection_id: CollectionId) -> Response:
    collection, _ = catalog.get(session, caller.org, None, collection_id)
    return page(request, "admin_collection.html", {"collection": collection,
                                                   "grants": catalog.grants_of(session, collection)})


@router.post("/admin/collections/{collection_id}/grants", dependencies=[CsrfChecked])
def grant(request: Request, session: SessionDep, caller: HubAdminPage, collection_id: CollectionId, slug: Slug,
          read: Annotated[bool, Form()] = False, write: Annotated[bool, Form()] = False) -> Response:
    """Sets (not adds to) the organisation's rights; both boxes off takes its grant away, as the CLI's does."""
    collection, _ = catalog.get(session, caller.org, None, collection_id)
    catalog.require_granter(collection, caller.org)
    catalog.grant(session, collection=collection, org=orgs.get_by_slug(session, slug), read=read, write=write)
    audit.record_request(session, request, caller, "collection.grant", collection.id,
                         f"{slug}: read={read}, write={write}")
    return see_other(request, f"/admin/collections/{collection.id}")
