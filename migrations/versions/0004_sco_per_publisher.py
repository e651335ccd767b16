"""SCOs once per publisher: the publisher joins the version key of stix_object.

Deterministic SCO ids made the first reporter's copy (and its TLP) the only one, and told a second
reporter that it existed. On SQLite the table is rebuilt (keeping AUTOINCREMENT, so cursors over pk
stay monotonic); migrations/env.py switches foreign keys off for that.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 17:36:52.126088
"""
import sqlalchemy as sa
from alembic import op

from exchange.core.db import sqlite_sequence_kept


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with sqlite_sequence_kept(op.get_bind(), 'stix_object'):
        with op.batch_alter_table('stix_object', schema=None, table_kwargs={"sqlite_autoincrement": True}) as batch_op:
            batch_op.drop_constraint(batch_op.f('uq_stix_object_stix_id_collection_pk_modified'), type_='unique')
            batch_op.create_unique_constraint('uq_stix_object_version',
                                              ['stix_id', 'collection_pk', 'modified', 'publisher_org_pk'])


def downgrade() -> None:
    # The old key allows one copy per version: keep each SCO's first report. Its observables and
    # recipients are deleted here, not by cascade: migrations run with SQLite's foreign keys off.
    doomed = ("SELECT pk FROM stix_object WHERE pk NOT IN (SELECT MIN(pk) FROM stix_object "
              "GROUP BY stix_id, collection_pk, modified)")
    for table, key in (("observable", "object_pk"), ("object_recipient", "object_pk"), ("stix_object", "pk")):
        op.execute(sa.text(f"DELETE FROM {table} WHERE {key} IN ({doomed})"))  # noqa: S608 - fixed names
    with sqlite_sequence_kept(op.get_bind(), 'stix_object'):
        with op.batch_alter_table('stix_object', schema=None, table_kwargs={"sqlite_autoincrement": True}) as batch_op:
            batch_op.drop_constraint('uq_stix_object_version', type_='unique')
            batch_op.create_unique_constraint(batch_op.f('uq_stix_object_stix_id_collection_pk_modified'),
                                              ['stix_id', 'collection_pk', 'modified'])
