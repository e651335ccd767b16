"""The request's database session and the app's settings as FastAPI dependencies: every router of every layer
takes them from here.

Who is calling (``MaybeOrg``, ``Writer``, ...) is a dependency too, but it needs the organisations'
service, so it lives in ``exchange.orgs.auth`` (decision 0008).

A dependency that waits for nothing (a check of what another one found, a parameter's shape) is ``async def``
across the hub: FastAPI runs a plain function in a worker thread, and each such hand-off between the event loop
and the thread pool waits for the interpreter lock behind the pages being computed (decision 0014, "Hand-offs").
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Annotated

import anyio
from fastapi import Depends, Request
from sqlalchemy.orm import Session

from exchange.core.errors import ServiceUnavailable
from exchange.core.settings import Settings

TURN_WAIT_SECONDS = 30  # a request that waits longer for its turn at the database gets a 503 (retry later)


async def database_turn(request: Request) -> AsyncIterator[None]:
    """The request's turn at the database, taken in the event loop before its session and its worker threads.

    A request takes its pooled connection in one worker thread (a page's session check) and runs its endpoint in
    another. With more requests in flight than the pool has connections, the worker threads could all wait for
    connections held by requests that wait for a thread: nothing moved until the pool gave up (503s, seen with
    two threads and 40 pages; the defaults need about 55 at once). With no more requests at the database than
    there are connections (``db.request_turns``), a request waits here, holding neither a thread nor a connection.
    """
    turns: anyio.Semaphore | None = request.app.state.database_turns
    if turns is None:
        yield
        return
    try:
        with anyio.fail_after(TURN_WAIT_SECONDS):
            await turns.acquire()
    except TimeoutError:
        raise ServiceUnavailable("the hub is busy: too many requests are waiting for the database") from None
    try:
        yield
    finally:
        turns.release()


def get_session(request: Request, _turn: Annotated[None, Depends(database_turn, scope="function")]
                ) -> Iterator[Session]:
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
