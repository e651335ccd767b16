"""Authentication dependencies: ``Authorization: Bearer <key>`` or HTTP Basic (slug + key).

Permissions are typed dependencies named in endpoint signatures (``CurrentOrg``, ``MaybeOrg``),
so a route cannot forget them and its signature says what it needs.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from exchange.errors import Unauthenticated
from exchange.orgs import service
from exchange.orgs.models import Org


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request: committed when the endpoint returns, rolled back on error."""
    with request.app.state.sessions() as session, session.begin():
        yield session


# scope="function": commit before the response is sent. With the default ("request") FastAPI ends
# the dependency after sending, so a client could read before the commit, and a failed commit
# would still have been answered with success (seen: a TAXII POST's status 404 right after a 202).
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


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


def optional_org(request: Request, session: SessionDep) -> Org | None:
    """The calling org, None when no credentials were sent; 401 when they are wrong."""
    header = request.headers.get("authorization")
    if not header:
        return None
    creds = _credentials(header)
    org = service.authenticate(session, creds[1], slug=creds[0]) if creds else None
    if org is None:
        raise Unauthenticated("the API key (or organisation and key) is not valid")
    return org


def current_org(org: Annotated[Org | None, Depends(optional_org)]) -> Org:
    if org is None:
        raise Unauthenticated("send 'Authorization: Bearer <api key>' or HTTP Basic with the org slug and key")
    return org


CurrentOrg = Annotated[Org, Depends(current_org)]
MaybeOrg = Annotated[Org | None, Depends(optional_org)]
