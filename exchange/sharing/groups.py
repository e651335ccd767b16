"""Sharing groups: circles of organisations that TLP:AMBER objects in the group's collections reach.

The owner organisation manages the membership (and hub admins may); the owner is always a member,
stored as one, so "is this org in the group" is one indexed join everywhere. Only coordinators
(csirt, isac and admin organisations) create groups and add members: membership decides who
receives a group's AMBER, and nobody asks the added organisation, so enrolling others is the job of
those who run trust communities, not of any member (see ``require_coordinator``).
"""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import Session

from exchange.core.errors import BadRequest, Forbidden, NotFound
from exchange.core.timestamps import now_micros
from exchange.orgs.models import Org, Role, SharingGroup, SharingGroupMember

COORDINATORS = frozenset({Role.csirt, Role.isac, Role.admin})


def require_coordinator(org: Org) -> None:
    """Refuse an organisation that may not own a sharing group nor enrol members in one.

    Checked where a group is created or a member added on someone's behalf (REST, CLI), not in
    ``create``/``add_member`` themselves: groups an SME made before this rule still exist, and the
    access rules (and their tests) must keep holding for them.
    """
    if org.role not in COORDINATORS:
        raise Forbidden(f"only csirt, isac and admin organisations own sharing groups and add members to them "
                        f"(they coordinate trust communities); {org.slug!r} is a {org.role.value} organisation")


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
    if not org.is_hub_admin:
        query = query.where(SharingGroup.pk.in_(member_group_pks(org.pk)))
    return list(session.scalars(query))


def get_visible(session: Session, org: Org, group_id: str) -> SharingGroup:
    """A group its members (and hub admins) may see; to anyone else it does not exist (404)."""
    group = get(session, group_id)
    if not org.is_hub_admin and session.get(SharingGroupMember, (group.pk, org.pk)) is None:
        raise NotFound(f"no sharing group {group_id!r}")
    return group


def require_manager(group: SharingGroup, org: Org) -> None:
    """Removing members: the owner (whatever its role, so an SME that made a group before the
    coordinator rule can still shrink it) or a hub admin."""
    if not org.is_hub_admin and group.owner_org_pk != org.pk:
        raise Forbidden("only the group's owner organisation (or a hub admin) manages its members")


def require_enroller(group: SharingGroup, org: Org) -> None:
    """Adding members: the owner or a hub admin, and a coordinator."""
    require_manager(group, org)
    require_coordinator(org)


def add_member(session: Session, group: SharingGroup, member: Org) -> None:
    if session.get(SharingGroupMember, (group.pk, member.pk)) is None:
        session.add(SharingGroupMember(group_pk=group.pk, org_pk=member.pk))
        session.flush()


def remove_member(session: Session, group: SharingGroup, member: Org) -> None:
    """Remove ``member``; one that is not a member is a 404, so a typo never reads as done."""
    if member.pk == group.owner_org_pk:
        raise BadRequest("the owner organisation cannot leave its own group")
    membership = session.get(SharingGroupMember, (group.pk, member.pk))
    if membership is None:
        raise NotFound(f"{member.slug!r} is not a member of sharing group {group.id!r}")
    session.delete(membership)
    session.flush()


def members(session: Session, group: SharingGroup) -> list[Org]:
    return list(session.scalars(
        select(Org).join(SharingGroupMember, SharingGroupMember.org_pk == Org.pk)
        .where(SharingGroupMember.group_pk == group.pk).order_by(Org.slug)
    ))


def member_group_pks(org_pk: int | ColumnElement[int]) -> Select[int]:
    """The groups ``org_pk`` (a value, or a column of an outer query) belongs to, as a subquery for the access
    rules."""
    return select(SharingGroupMember.group_pk).where(SharingGroupMember.org_pk == org_pk).correlate_except(
        SharingGroupMember)
