"""Ids, types and indicator values compared byte by byte on PostgreSQL (collation "C").

They are only compared for equality or as ASCII (fixed-width hex IP ranges sort the same either
way), and a locale-aware comparison made each index look-up and insert on them about twice as slow
(measured: 10,000 id look-ups at 1M objects, 121 ms against 72 ms). Changing the collation
rebuilds the indexes on these columns. SQLite compares bytes already.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 20:05:00.000000
"""
from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

_COLUMNS = (("stix_object", "stix_id", 300), ("stix_object", "type", 250), ("observable", "kind", 16),
            ("observable", "value", 1024), ("observable", "ip_lo", 32), ("observable", "ip_hi", 32))


def _collate(collation: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column, length in _COLUMNS:
        op.execute(f'ALTER TABLE {table} ALTER COLUMN {column} TYPE varchar({length}) COLLATE "{collation}"')


def upgrade() -> None:
    _collate("C")


def downgrade() -> None:
    _collate("default")
