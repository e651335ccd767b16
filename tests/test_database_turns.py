"""More requests in flight than the database pool has connections: they wait for a turn, none waits for ever.

A request takes its pooled connection in one worker thread (authentication) and runs its endpoint in another.
With the threads all taken by requests waiting for a connection, and the connections all held by requests
waiting for a thread, nothing moved until the pool gave up (503s after ``database_pool_timeout``, 1 s here). Two
worker threads make that happen with a few dozen requests; the defaults (40 threads) with about 55 on one server
process."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import cast

import anyio.to_thread
import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from exchange.core.db import transaction
from exchange.core.settings import Settings
from exchange.orgs import users
from exchange.orgs.models import Org, Role, UserRole
from tests.orgs_factory import MakeOrg, auth
from tests.serving import NO_LIMITS, serving

PASSWORD = "a long test password"  # noqa: S105 - a throw-away test user

REQUESTS = 40


def _two_worker_threads() -> None:
    anyio.to_thread.current_default_thread_limiter().total_tokens = 2


def test_requests_beyond_the_pool_wait_for_a_turn_and_all_are_answered(settings: Settings,
                                                                     make_org: MakeOrg) -> None:
    org, key = make_org(Role.csirt)
    with serving(settings, **NO_LIMITS, database_pool_timeout=1) as client:
        client.portal.call(_two_worker_threads)  # type: ignore[union-attr]
        with ThreadPoolExecutor(REQUESTS) as pool:
            statuses = list(pool.map(lambda _: client.get("/api/v1/objects", headers=auth(key)).status_code,
                                     range(REQUESTS)))
    assert statuses == [200] * REQUESTS


def test_pages_beyond_the_pool_wait_for_a_turn_and_all_are_answered(settings: Settings, make_org: MakeOrg,
                                                                    sessions: sessionmaker[Session]) -> None:
    """A page keeps its connection from the session check to the end (the API's authentication gives it back)."""
    org, _ = make_org(Role.sme)
    with transaction(sessions) as s:
        users.create(s, s.get_one(Org, org.pk), email="owner@turns.test", role=UserRole.owner, password=PASSWORD)
    with serving(settings, **NO_LIMITS, web_signin_limit="1000/minute", database_pool_timeout=1) as client:
        token = re.search(r'name="csrf" value="([^"]+)"', client.get("/signin").text)
        assert token is not None
        signed_in = client.post("/signin", data={"csrf": token.group(1), "email": "owner@turns.test",
                                                 "password": PASSWORD}, follow_redirects=False)
        assert signed_in.status_code == 303
        client.portal.call(_two_worker_threads)  # type: ignore[union-attr]
        with ThreadPoolExecutor(REQUESTS) as pool:
            statuses = list(pool.map(lambda _: client.get("/lookup").status_code, range(REQUESTS)))
    assert statuses == [200] * REQUESTS


class _Gate:
    """The app's session factory, counting the sessions open at once. The first ``meet`` sessions wait for each
    other before they go on, so that requests beyond them arrive while they are open."""

    def __init__(self, factory: sessionmaker[Session], meet: int) -> None:
        self.factory, self.meet, self.inside, self.most = factory, meet, 0, 0
        self.changed = threading.Condition()

    @contextmanager
    def __call__(self) -> Iterator[Session]:
        with self.changed:
            self.inside += 1
            self.most = max(self.most, self.inside)
            self.changed.notify_all()
            self.changed.wait_for(lambda: self.inside >= self.meet or self.most > self.meet, timeout=10)
        try:
            with self.factory() as session:
                yield session
        finally:
            with self.changed:
                self.inside -= 1


@pytest.mark.parametrize("at_once", [1, 2])
def test_a_process_works_on_requests_at_once_requests_and_no_more(settings: Settings, make_org: MakeOrg,
                                                                  at_once: int) -> None:
    """``requests_at_once``: the others wait for a turn (in the event loop), and every one is answered."""
    org, key = make_org(Role.csirt)
    with serving(settings, **NO_LIMITS, requests_at_once=at_once) as client:
        app = cast(FastAPI, client.app)
        gate = app.state.sessions = _Gate(app.state.sessions, at_once)
        with ThreadPoolExecutor(12) as pool:
            statuses = list(pool.map(lambda _: client.get("/api/v1/objects", headers=auth(key)).status_code,
                                     range(12)))
    assert statuses == [200] * 12
    assert gate.most == at_once
