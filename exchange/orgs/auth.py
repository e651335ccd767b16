"""Authentication dependencies: ``Authorization: Bearer <key>`` or HTTP Basic (slug + key).

Permissions are typed dependencies named in endpoint signatures (``MaybeOrg`` and ``CurrentOrg``
for reads, ``Writer``, ``OrgAdmin``, ``HubAdmin``), so a route cannot forget them and its signature
says what it needs: the key's scope is checked there, the collection and TLP rules in the services.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from fastapi import Depends, Request

from exchange.core.deps import SessionDep
from exchange.core.errors import Unauthenticated
from exchange.orgs import permissions, service
from exchange.orgs.models import Org, Scope
from exchange.orgs.service import Principal


def _credentials(header: str) -> tuple[str | None, str] | None:
    scheme, _, value = header.partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer" and value:
        return None, value
    if scheme.lower() == "basic" and value:
        try:
            user, sep, password = base64.b64decode(value, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return (user, password) if sep else None
    return None


def optional_principal(request: Request, session: SessionDep) -> Principal | None:
    """The caller, None when no credentials were sent; 401 when they are wrong, revoked or expired.

    Kept on ``request.state`` so the audit log can name the caller of any write.
    """
    header = request.headers.get("authorization")
    if not header:
        return None
    creds = _credentials(header)
    principal = service.authenticate(session, creds[1], slug=creds[0]) if creds else None
    # Its own short transaction (it may touch last_used): the connection goes back to the pool now,
    # not after the body has arrived; the loaded organisation and key stay usable (no expiry on commit).
    session.commit()
    if principal is None:
        raise Unauthenticated("the API key (or organisation and key) is not valid, or it was revoked or expired")
    request.state.principal = principal
    return principal


MaybePrincipal = Annotated[Principal | None, Depends(optional_principal)]


async def required_principal(principal: MaybePrincipal) -> Principal:
    if principal is None:
        raise Unauthenticated("send 'Authorization: Bearer <api key>' or HTTP Basic with the org slug and key")
    return principal


async def optional_org(principal: MaybePrincipal) -> Org | None:
    """The reading organisation (the access rules are about organisations); needs the read scope."""
    if principal is None:
        return None
    principal.require(Scope.read)
    return principal.org


async def current_org(org: Annotated[Org | None, Depends(optional_org)]) -> Org:
    if org is None:
        raise Unauthenticated("send 'Authorization: Bearer <api key>' or HTTP Basic with the org slug and key")
    return org


async def writer(principal: MaybePrincipal) -> Principal:
    caller = await required_principal(principal)
    caller.require(Scope.write)
    return caller


async def org_admin(principal: MaybePrincipal) -> Principal:
    """Manages its own organisation: users, keys, the sharing groups it owns."""
    caller = await required_principal(principal)
    caller.require(Scope.admin)
    return caller


async def hub_admin(caller: Annotated[Principal, Depends(org_admin)]) -> Principal:
    """Manages the hub: organisations, the audit log."""
    permissions.require_hub_admin(caller)
    return caller


CurrentPrincipal = Annotated[Principal, Depends(required_principal)]
CurrentOrg = Annotated[Org, Depends(current_org)]
MaybeOrg = Annotated[Org | None, Depends(optional_org)]
Writer = Annotated[Principal, Depends(writer)]
OrgAdmin = Annotated[Principal, Depends(org_admin)]
HubAdmin = Annotated[Principal, Depends(hub_admin)]
