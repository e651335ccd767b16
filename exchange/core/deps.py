"""The request's database session and the app's settings as FastAPI dependencies: every router of every layer
takes them from here.

Who is calling (``MaybeOrg``, ``Writer``, ...) is a dependency too, but it needs the organisations'
service, so it lives in ``exchange.orgs.auth`` (decision 0008).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from exchange.core.settings import Settings


def get_session(request: Request) -> Iterator[Session]:
    """The request's session: committed when the endpoint returns, rolled back on error.

    A session takes a pooled connection only at its first query, and authentication commits (so
    gives the connection back) before a body is read: a client that sends its body slowly holds
    no database connection while it does (slow writers once emptied the pool for everyone).
    """
    with request.app.state.sessions() as session:
        yield session
        session.commit()


# scope="function": commit before the response is sent. With the default ("request") FastAPI ends
# the dependency after sending, so a client could read before the commit, and a failed commit
# would still have been answered with success (seen: a TAXII POST's status 404 right after a 202).
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def get_settings(request: Request) -> Settings:
    """The settings the app was created with (``app.state.settings``), typed, instead of each router
    reading the untyped ``request.app.state`` and annotating it again."""
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings)]
