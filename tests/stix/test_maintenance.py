"""Planner statistics after bulk loads (PostgreSQL; nothing to do on SQLite)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from exchange.core import db
from exchange.store import maintenance
from exchange.store.bulk import ingest_stream
from tests.factories import indicator


def _last_analyze(session: Session) -> object:
    return session.execute(text(
        "SELECT last_analyze FROM pg_stat_user_tables WHERE relid = to_regclass('stix_object')")).scalar()


def test_bulk_loads_leave_fresh_statistics(sessions: sessionmaker[Session]) -> None:
    batches = [[indicator() for _ in range(3)] for _ in range(3)]
    ingest_stream(sessions, batches)
    with db.transaction(sessions) as s:
        if s.get_bind().dialect.name != "postgresql":
            assert maintenance.analyze(s) == []
            return
        assert _last_analyze(s) is not None


def test_only_stale_tables_are_analysed(sessions: sessionmaker[Session]) -> None:
    with db.transaction(sessions) as s:
        if s.get_bind().dialect.name != "postgresql":
            assert maintenance.analyze(s, only_stale=True) == []
            return
        maintenance.analyze(s)
    with db.transaction(sessions) as s:
        assert maintenance.analyze(s, only_stale=True) == []  # nothing changed since
