"""The audit log refuses the two overwrites migration 0003's UPDATE/DELETE triggers let through.

SQLite: ``INSERT OR REPLACE`` / ``REPLACE INTO`` with an existing ``pk`` deletes the old row as
conflict resolution, which fires no DELETE trigger unless ``recursive_triggers`` is on; a BEFORE
INSERT trigger now aborts when a row with that key exists, whatever the conflict clause.
PostgreSQL: ``TRUNCATE`` fires no row triggers; a statement-level BEFORE TRUNCATE trigger now
raises, through the same function as the UPDATE/DELETE trigger. (``INSERT ... ON CONFLICT DO
UPDATE`` is an UPDATE on both and was already refused.)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 10:20:00.000000
"""
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

_UP = {
    "sqlite": [
        "CREATE TRIGGER audit_entry_no_replace BEFORE INSERT ON audit_entry "
        "WHEN EXISTS (SELECT 1 FROM audit_entry WHERE pk = NEW.pk) "
        "BEGIN SELECT RAISE(ABORT, 'audit_entry is append-only'); END",
    ],
    "postgresql": [
        "CREATE TRIGGER audit_entry_no_truncate BEFORE TRUNCATE ON audit_entry "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_append_only()",
    ],
}
_DOWN = {
    "sqlite": ["DROP TRIGGER audit_entry_no_replace"],
    "postgresql": ["DROP TRIGGER audit_entry_no_truncate ON audit_entry"],
}


def upgrade() -> None:
    for statement in _UP[op.get_bind().dialect.name]:
        op.execute(statement)


def downgrade() -> None:
    for statement in _DOWN[op.get_bind().dialect.name]:
        op.execute(statement)
