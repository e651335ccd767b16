"""Large bodies (queued envelopes, status resources) compressed with lz4 on PostgreSQL.

PostgreSQL compresses a value of more than about 2 kB before storing it out of line, with pglz by
default: 8-11 ms for a 1,000-object envelope (588 kB), against 2.3 ms with lz4 at the same size
(measured), on the TAXII POST path of every large envelope. lz4 needs PostgreSQL 14 built with it
(the Debian, Ubuntu and official Docker images are); elsewhere pglz stays. SQLite does not compress.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 19:50:00.000000
"""
from alembic import op


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

_COLUMNS = (("ingest_job", "payload"), ("ingest_job", "pending_status"), ("taxii_status", "body"))


def _lz4_available() -> bool:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return False
    return bool(bind.exec_driver_sql(
        "SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)"
    ).scalar())


def _set(method: str) -> None:
    if _lz4_available():
        for table, column in _COLUMNS:
            op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET COMPRESSION {method}")


def upgrade() -> None:
    _set("lz4")


def downgrade() -> None:
    _set("pglz")
