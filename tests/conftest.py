"""Shared fixtures: a real database built by the migrations, per test worker.

SQLite by default; PostgreSQL when EXCHANGE_TEST_DATABASE_URL is set, in a schema of its own per
run and worker, so concurrent runs never collide. Tables are emptied after each test.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from exchange.app import create_app
from exchange.core import db
from exchange.core.settings import Settings
from exchange.orgs import service as orgs
from exchange.orgs.models import Role
from exchange.store.reads import DEFAULT_COLLECTION_ID
from tests.orgs_factory import MakeOrg, OrgKey
from tests.taxii.live import Hub, Server, start_server

PG_URL = os.environ.get("EXCHANGE_TEST_DATABASE_URL")


def once(why: str) -> pytest.MarkDecorator:
    """For tests whose work does not depend on the test database: the suite runs once per database (CI), and
    the PostgreSQL pass would repeat them unchanged, so they run in the SQLite pass only."""
    return pytest.mark.skipif(bool(PG_URL), reason=f"runs once, in the SQLite pass: {why}")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if PG_URL:
        schema = f"test_{uuid.uuid4().hex[:12]}"
        db.create_schema(PG_URL, schema)
        url = db.with_schema(PG_URL, schema)
        db.upgrade(url)
        yield url
        db.drop_schema(PG_URL, schema)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'exchange.core.db'}"
        db.upgrade(url)
        yield url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = db.make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> Iterator[sessionmaker[Session]]:
    yield db.make_sessionmaker(engine)
    for attempt in range(5):
        try:
            _empty_tables(engine)
            return
        except OperationalError as e:
            # A live server's background job (ingester, matching) may still write when the test ends;
            # PostgreSQL then picks this cleanup as a deadlock victim: try again once it has finished.
            if "deadlock" not in str(e).lower() or attempt == 4:
                raise


def _empty_tables(engine: Engine) -> None:
    with engine.begin() as conn:
        for table in ("feed_item", "feed_run", "feed", "ingest_job", "object_recipient", "observable", "object_ref",
                      "stix_object", "taxii_status", "collection_grant", "sharing_group_member", "api_key", "app_user"):
            conn.execute(text(f"DELETE FROM {table}"))  # noqa: S608 - fixed table names
        conn.execute(text("DELETE FROM collection WHERE id != :id"), {"id": DEFAULT_COLLECTION_ID})
        conn.execute(text("DELETE FROM api_root WHERE name != 'default'"))
        conn.execute(text("DELETE FROM sharing_group"))
        conn.execute(text("DELETE FROM org"))  # the audit log stays: it is append-only, even here


@pytest.fixture
def session(sessions: sessionmaker[Session]) -> Iterator[Session]:
    with db.transaction(sessions) as s:
        yield s


@pytest.fixture
def settings(database_url: str, monkeypatch: pytest.MonkeyPatch, sessions: sessionmaker[Session]) -> Settings:
    """Settings of the test database; depending on ``sessions`` empties the tables after the test."""
    monkeypatch.setenv("EXCHANGE_DATABASE_URL", database_url)  # for CLI commands run in-process
    # rate limits off: whether a test meets them must not depend on the machine's speed
    # the ingester prepares in its own thread: a helper process per test app would cost a second each
    # (the live servers of tests/taxii run with the default helper)
    return Settings(database_url=database_url, max_body_bytes=2 * 1024 * 1024, max_page_size=500,
                    rate_limit_per_ip="", rate_limit_per_key="", ingest_prepare_processes=0)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings)
    with TestClient(app) as c:
        yield c
    app.state.engine.dispose()


@pytest.fixture
def make_org(sessions: sessionmaker[Session]) -> MakeOrg:
    """Create an org with its first key, committed, as the API sees only committed data."""

    def make(role: Role = Role.csirt, name: str | None = None) -> OrgKey:
        with db.transaction(sessions) as s:
            issued = orgs.create(s, name=name or f"{role.value} {uuid.uuid4().hex[:6]}", role=role)
        return OrgKey(issued.org, issued.api_key)

    return make


@pytest.fixture(scope="module")
def live_server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A real ``exchange serve`` process for a module's tests that speak HTTP to it. Per module, not per
    run: its ingester polls the shared test database, and would claim the envelopes that the in-process
    ingester tests (tests/stix/test_queue.py) queue for themselves."""
    yield from start_server(database_url, tmp_path_factory.mktemp("live"))


@pytest.fixture
def hub(live_server: Server, settings: Settings, make_org: MakeOrg) -> Hub:
    """``settings`` points the in-process CLI at the test database and empties the tables afterwards."""
    return Hub(live_server, make_org)
