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

from exchange.core.settings import Settings
from exchange.core.turns import CURRENT, Turn


async def database_turn(request: Request) -> AsyncIterator[None]:
    """The request's turn at the database, taken in the event loop before its session and its worker threads.

    A server process works on ``requests_at_once`` requests at once (``db.request_turns``); the others wait here,
    in arrival order, holding neither a thread nor a connection. Python runs one thread of a process at a time,
    so more at once only queued for it (decision 0014, "Requests at once"). The bound also keeps the pool from a
    deadlock: a request takes its pooled connection in one worker thread (a page's session check) and runs its
    endpoint in another, and with more requests in flight than the pool has connections, the threads could all
    wait for connections held by requests that waited for a thread (503s, seen with two threads and 40 pages).
    """
    turns: anyio.Semaphore | None = request.app.state.database_turns
    if turns is None:
        yield
        return
    turn = Turn(turns)
    await turn.take()
    CURRENT.set(turn)  # for ``request_body`` and ``turns.leave_turn``: worker threads run in copies of this context
    try:
        yield
    finally:
        turn.give_back()


async def request_body(request: Request) -> bytes:
    """The body, read without holding a turn: a client may take up to the body timeout to send it, and three slow
    writers holding a process's three turns stopped every page it served. Authentication has given its connection
    back by then (``orgs.auth``), so the request holds nothing while it waits; it queues for a turn again after."""
    turn = CURRENT.get()
    if turn is None or not turn.held:
        return await request.body()
    turn.give_back()
    body = await request.body()
    await turn.take()
    return body


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
