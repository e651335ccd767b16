"""Object references: the ids each relationship and sighting version points at, so "what points at this
object" is an index look-up instead of a sieve over the raw JSON of every object of a publisher. Existing
relationships and sightings are read once to fill the table.

See docs/decisions/0014-web.md ("Speed").

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 22:00:00.000000
"""
import json

import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

# As exchange.stix.prepare.POINTERS on the day of this migration (a migration must not change with the code).
POINTERS = {"relationship": ("source_ref", "target_ref"),
            "sighting": ("sighting_of_ref", "where_sighted_refs", "observed_data_refs")}
BATCH = 5000


def _refs(obj: dict) -> list[str]:
    found: dict[str, None] = {}
    for key in POINTERS.get(obj.get("type"), ()):
        value = obj.get(key)
        for ref in value if isinstance(value, list) else (value,) if isinstance(value, str) else ():
            if isinstance(ref, str):
                found[ref] = None
    return list(found)


def upgrade() -> None:
    table = op.create_table(
        'object_ref',
        sa.Column('ref', sa.String(length=300).with_variant(sa.String(length=300, collation='C'), 'postgresql'),
                  nullable=False),
        sa.Column('object_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.PrimaryKeyConstraint('ref', 'object_pk', name=op.f('pk_object_ref')),
        sqlite_with_rowid=False,
    )
    bind = op.get_bind()
    after = 0
    while True:
        rows = bind.execute(sa.text(
            "SELECT pk, raw FROM stix_object WHERE type IN ('relationship', 'sighting') AND pk > :after "
            "ORDER BY pk LIMIT :n"), {"after": after, "n": BATCH}).all()
        if not rows:
            return
        refs = [{"ref": ref, "object_pk": pk} for pk, raw in rows for ref in _refs(json.loads(raw))]
        if refs:
            op.bulk_insert(table, refs)
        after = rows[-1][0]


def downgrade() -> None:
    op.drop_table('object_ref')
