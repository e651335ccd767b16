"""Keeping PostgreSQL's planner informed.

Paging (`collection_pk = ? AND pk > ?`) and id look-ups are only fast when the planner knows the
tables' sizes. After a large import, until autovacuum analyses them (or never, where autovacuum is
off), it planned a page in the middle of a million objects as a bitmap scan plus sort, far slower
(decision 0001, "PostgreSQL"). Bulk loads therefore finish with ``ANALYZE``, and the worker re-analyses
tables whose statistics went stale.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

TABLES = ("stix_object", "observable")
STALE_FRACTION = 0.1  # what autovacuum's default analyze_scale_factor considers stale


def analyze(session: Session, *, only_stale: bool = False) -> list[str]:
    """ANALYZE the store's tables (PostgreSQL only); returns the tables analysed."""
    if session.get_bind().dialect.name != "postgresql":
        return []
    done = []
    for table in TABLES:
        if only_stale:
            changed, live = session.execute(text(
                "SELECT n_mod_since_analyze, n_live_tup FROM pg_stat_user_tables "
                "WHERE relid = to_regclass(:table)"), {"table": table}).one_or_none() or (0, 0)
            if changed <= STALE_FRACTION * max(live, 1000):
                continue
        session.execute(text(f"ANALYZE {table}"))  # a fixed table name
        done.append(table)
    return done
