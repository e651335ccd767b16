"""Statements prepared on PostgreSQL (``core.db.PREPARED``): planned once per connection, and nothing else is prepared.

A statement is prepared only where one plan fits every value (decision 0001, "PostgreSQL"): a generic plan of
an ``IN`` list of ids was a sequential scan, so psycopg must never prepare a statement by itself.
"""

from __future__ import annotations

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session, sessionmaker

from exchange.alerts import candidates
from exchange.core.settings import Settings
from exchange.orgs.models import Org, Role
from exchange.store.models import StixObject
from exchange.web import sessions as web_sessions
from tests.conftest import PG_URL
from tests.orgs_factory import MakeOrg

pytestmark = pytest.mark.skipif(not PG_URL, reason="needs EXCHANGE_TEST_DATABASE_URL (PostgreSQL)")

STATEMENTS = "select statement, generic_plans, custom_plans from pg_prepared_statements"


def _prepared(session: Session) -> dict[str, tuple[int, int]]:
    """This connection's prepared statements: text -> (generic plans, custom plans)."""
    return {row[0]: (row[1], row[2]) for row in session.execute(text(STATEMENTS))}


def test_the_read_rule_and_the_session_look_up_are_planned_once(sessions: sessionmaker[Session],
                                                                 make_org: MakeOrg) -> None:
    org = make_org(Role.sme).org
    with sessions() as s:  # a hub's worth of organisations, as the planner sees them
        s.execute(insert(Org), [{"id": f"org-{i}", "slug": f"sme-{i}", "name": f"SME {i}", "role": Role.sme,
                                 "identity_id": f"identity--{i}", "created_at": 0}
                                for i in range(5000)])
        s.commit()
        s.execute(text("ANALYZE org"))
        for run in range(12):  # other values each run: one plan must serve them all
            candidates.readable(s, [(org.pk, 1000 + run), (org.pk, 2000 + run)])
            assert web_sessions.resume(s, f"no-such-session-{run}", settings=Settings()) is None
        prepared = _prepared(s)
    read_rule = [plans for statement, plans in prepared.items() if "json_array_elements" in statement]
    look_up = [plans for statement, plans in prepared.items() if "web_session.token_hash" in statement]
    # PostgreSQL plans a prepared statement for its values five times, then keeps the generic plan if it costs no
    # more: it must, for these two (the read rule's constants are written into it, ``access.readers``).
    assert read_rule == [(7, 5)], prepared
    assert look_up == [(7, 5)], prepared


def test_a_statement_not_marked_is_never_prepared(sessions: sessionmaker[Session]) -> None:
    """psycopg prepares a statement after five runs unless told never to; an id list must stay unprepared."""
    with sessions() as s:
        for run in range(12):
            s.scalars(select(StixObject.pk).where(StixObject.stix_id.in_([f"indicator--{run}", "indicator--x"])))
        prepared = _prepared(s)
    assert not any("stix_object" in statement for statement in prepared), prepared
