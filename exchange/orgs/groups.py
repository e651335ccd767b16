"""Sharing groups: circles of organisations that TLP:AMBER objects in the group's collections reach.

The owner organisation manages the membership (and hub admins may); the owner is always a member,
stored as one, so "is this org in the group" is one indexed join everywhere.
"""

from __future__ import annotations

import uuid

from sqlalchemy import Select, delete, select
from sqlalchemy.orm import Session

from exchange.errors import BadRequest, Forbidden, NotFound
from exchange.orgs.models import Org, Role, SharingGroup, SharingGroupMember
from exchange.stix.timestamps import now_micros


def create(session: Session, owner: Org, *, name: str, description: str = "") -> SharingGroup:
    group = SharingGroup(id=str(uuid.uuid4()), name=name, description=description, owner_org_pk=owner.pk,
                         created_at=now_micros())
    session.add(group)
    session.flush()
    session.add(SharingGroupMember(group_pk=group.pk, org_pk=owner.pk))
    session.flush()
    return group


def get(session: Session, group_id: str) -> SharingGroup:
    group = session.scalar(select(SharingGroup).where(SharingGroup.id == group_id))
    if group is None:
        raise NotFound(f"no sharing group {group_id!r}")
    return group


def visible_to(session: Session, org: Org) -> list[SharingGroup]:
    """The groups an organisation belongs to (admins: all); others' groups stay unlisted."""
    query = select(SharingGroup).order_by(SharingGroup.name)
    if org.role != Role.admin:
        query = query.where(SharingGroup.pk.in_(member_group_pks(org.pk)))
    return list(session.scalars(query))


def get_visible(session: Session, org: Org, group_id: str) -> SharingGroup:
    """A group its members (and hub admins) may see; to anyone else it does not exist (404)."""
    group = get(session, group_id)
    if org.role != Role.admin and session.get(SharingGroupMember, (group.pk, org.pk)) is None:
        raise NotFound(f"no sharing group {group_id!r}")
    return group


def require_manager(group: SharingGroup, org: Org) -> None:
    if org.role != Role.admin and group.owner_org_pk != org.pk:
        raise Forbidden("only the group's owner organisation (or a hub admin) manages its members")


def add_member(session: Session, group: SharingGroup, member: Org) -> None:
    if session.get(SharingGroupMember, (group.pk, member.pk)) is None:
        session.add(SharingGroupMember(group_pk=group.pk, org_pk=member.pk))
        session.flush()


def remove_member(session: Session, group: SharingGroup, member: Org) -> None:
    if member.pk == group.owner_org_pk:
        raise BadRequest("the owner organisation cannot leave its own group")
    session.execute(delete(SharingGroupMember).where(SharingGroupMember.group_pk == group.pk,
                                                     SharingGroupMember.org_pk == member.pk))


def members(session: Session, group: SharingGroup) -> list[Org]:
    return list(session.scalars(
        select(Org).join(SharingGroupMember, SharingGroupMember.org_pk == Org.pk)
        .where(SharingGroupMember.group_pk == group.pk).order_by(Org.slug)
    ))


def member_group_pks(org_pk: int) -> Select[int]:
    """The groups ``org_pk`` belongs to, as a subquery for the access rules."""
    return select(SharingGroupMember.group_pk).where(SharingGroupMember.org_pk == org_pk)
