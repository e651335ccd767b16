"""The planner around ingest: statistics after bulk loads, no machine code for ingest's statements.
PostgreSQL only: on SQLite ``analyze`` does nothing and there is no JIT, so a pass there would prove nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from exchange.core import db
from exchange.orgs.models import Role
from exchange.store import maintenance, reads
from exchange.store.bulk import ingest_stream
from exchange.store.ingest import ingest
from tests.conftest import PG_URL
from tests.factories import indicator
from tests.orgs_factory import MakeOrg

pytestmark = pytest.mark.skipif(not PG_URL, reason="planner statistics and JIT exist on PostgreSQL only")


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


def test_an_ingest_transaction_compiles_nothing(sessions: sessionmaker[Session], make_org: MakeOrg) -> None:
    """Ingest turns sequential scans off, which prices a scan it cannot avoid at 10^10: far above
    ``jit_above_cost``, so PostgreSQL compiled such statements to machine code, 25-100 ms each (a
    one-object ingest took 56 ms instead of 12). The COPY's column-type probe and the relayer's member
    list are such scans; after an ingest, in its transaction, they must run as plain plans."""
    org, _ = make_org(Role.csirt)
    with db.transaction(sessions) as s:
        if not s.scalar(text("SELECT pg_jit_available()")):
            pytest.skip("this PostgreSQL has no JIT (built without LLVM): nothing can be compiled")
        ingest(s, [indicator()], collection=reads.get_collection(s), org=s.merge(org))
        for probe in ("SELECT pk, raw FROM stix_object LIMIT 0", "SELECT identity_id FROM org WHERE pk != 0"):
            plan = s.execute(text(f"EXPLAIN (ANALYZE, FORMAT JSON) {probe}")).scalar_one()
            assert "JIT" not in plan[0], (probe, plan[0]["JIT"])
