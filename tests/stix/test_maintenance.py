"""Planner statistics after bulk loads. PostgreSQL only: on SQLite ``analyze`` does nothing, so a
pass there would prove nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from exchange.core import db
from exchange.store import maintenance
from exchange.store.bulk import ingest_stream
from tests.conftest import PG_URL
from tests.factories import indicator

pytestmark = pytest.mark.skipif(not PG_URL, reason="planner statistics exist on PostgreSQL only")


def _last_analyze(session: Session) -> object:
    return session.execute(text(
        "SELECT last_analyze FROM pg_stat_user_tables WHERE relid = to_regclass('stix_object')")).scalar()


def test_bulk_loads_leave_fresh_statistics(sessions: sessionmaker[Session]) -> None:
    batches = [[indicator() for _ in range(3)] for _ in range(3)]
    ingest_stream(sessions, batches)
    with db.transaction(sessions) as s:
        assert _last_analyze(s) is not None


def test_only_stale_tables_are_analysed(sessions: sessionmaker[Session]) -> None:
    with db.transaction(sessions) as s:
        assert maintenance.analyze(s) == ["stix_object", "observable"]
    with db.transaction(sessions) as s:
        assert maintenance.analyze(s, only_stale=True) == []  # nothing changed since
