"""REST routes for sharing groups (``/api/v1/groups``): their owner manages the membership.

Every change is written to the audit log in the same transaction as the change.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session

from exchange.core.deps import SessionDep
from exchange.core.handlers import ERRORS
from exchange.core.queryparams import known_only, text_path
from exchange.orgs import audit, service
from exchange.orgs.auth import CurrentPrincipal, OrgAdmin
from exchange.orgs.models import Org, Scope, SharingGroup
from exchange.sharing import groups
from exchange.sharing.schemas import GroupIn, GroupOut

router = APIRouter(prefix="/api/v1", tags=["organisations"], responses=ERRORS, dependencies=[Depends(known_only)])
Slug = Annotated[str, text_path(max_length=64)]
GroupId = Annotated[str, text_path(max_length=64)]


def _group_out(session: Session, group: SharingGroup) -> GroupOut:
    owner = session.get(Org, group.owner_org_pk)
    return GroupOut(id=group.id, name=group.name, description=group.description, owner=owner.slug if owner else "",
                    members=[m.slug for m in groups.members(session, group)])


@router.get("/groups", summary="Sharing groups this organisation belongs to", response_model=list[GroupOut])
def list_groups(session: SessionDep, caller: CurrentPrincipal) -> list[GroupOut]:
    caller.require(Scope.read)
    return [_group_out(session, g) for g in groups.visible_to(session, caller.org)]


@router.post("/groups", summary="Create a sharing group owned by this organisation (csirt, isac, admin)",
             response_model=GroupOut, status_code=201)
def create_group(request: Request, session: SessionDep, caller: OrgAdmin, body: GroupIn) -> GroupOut:
    groups.require_coordinator(caller.org)
    group = groups.create(session, caller.org, name=body.name, description=body.description)
    audit.record_request(session, request, caller, "group.create", group.id, body.name)
    return _group_out(session, group)


@router.get("/groups/{group_id}", summary="A sharing group and its members", response_model=GroupOut)
def get_group(session: SessionDep, caller: CurrentPrincipal,
              group_id: GroupId) -> GroupOut:
    caller.require(Scope.read)
    return _group_out(session, groups.get_visible(session, caller.org, group_id))


@router.put("/groups/{group_id}/members/{slug}", summary="Add a member (the group's owner: csirt, isac, admin)",
            response_model=GroupOut)
def add_member(request: Request, session: SessionDep, caller: OrgAdmin,
               group_id: GroupId, slug: Slug) -> GroupOut:
    group = groups.get_visible(session, caller.org, group_id)
    groups.require_enroller(group, caller.org)
    groups.add_member(session, group, service.get_by_slug(session, slug))
    audit.record_request(session, request, caller, "group.add_member", group.id, slug)
    return _group_out(session, group)


@router.delete("/groups/{group_id}/members/{slug}", summary="Remove a member (the group's owner)",
               response_model=GroupOut)
def remove_member(request: Request, session: SessionDep, caller: OrgAdmin,
                  group_id: GroupId, slug: Slug) -> GroupOut:
    group = groups.get_visible(session, caller.org, group_id)
    groups.require_manager(group, caller.org)
    groups.remove_member(session, group, service.get_by_slug(session, slug))
    audit.record_request(session, request, caller, "group.remove_member", group.id, slug)
    return _group_out(session, group)
