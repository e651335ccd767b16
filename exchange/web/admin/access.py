"""Who may use the admin pages, as dependencies: the same rules as the REST API's, through the same functions.

A person in a browser acts as their own key would: a ``Principal`` of their organisation with the scopes
their role allows (``UserRole.scopes``, which caps every key of theirs too). So an owner of the hub's admin
organisation is a hub admin here exactly when an owner's key is one on the API, and an owner of any other
organisation manages its own users and keys, as ``exchange.orgs.permissions`` lets the API do.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from exchange.orgs import permissions
from exchange.orgs.models import Scope
from exchange.orgs.service import Principal
from exchange.web.deps import SignedInDep


async def principal(me: SignedInDep) -> Principal:
    return Principal(me.org, me.user, me.user.role.scopes)


async def org_admin(caller: Annotated[Principal, Depends(principal)]) -> Principal:
    """An owner: manages their own organisation's users and keys (403 for members and read-only people)."""
    caller.require(Scope.admin)
    return caller


async def hub_admin(caller: Annotated[Principal, Depends(org_admin)]) -> Principal:
    """An owner in an admin organisation: manages the hub (403 for everyone else)."""
    permissions.require_hub_admin(caller)
    return caller


OrgAdminPage = Annotated[Principal, Depends(org_admin)]
HubAdminPage = Annotated[Principal, Depends(hub_admin)]

