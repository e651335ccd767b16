"""stix_object and observable become bulk tables: no foreign keys, ids and values found by hash.

At 1M objects, PostgreSQL spent more than half of an ingest's insert time on per-row foreign-key
checks and on the two B-trees over long random strings (the unique version key and the value
index); see docs/decisions/0007-bulk-tables.md. Version uniqueness stays what it was, kept by the
ingest path under its lock. On SQLite both tables are rebuilt (AUTOINCREMENT and WITHOUT ROWID
kept); there the new indexes are B-trees.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 21:30:00.000000
"""
from alembic import op

from exchange.core.db import sqlite_sequence_kept


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with sqlite_sequence_kept(op.get_bind(), 'stix_object'):
        with op.batch_alter_table('stix_object', table_kwargs={"sqlite_autoincrement": True}) as batch_op:
            batch_op.drop_constraint('fk_stix_object_collection_pk_collection', type_='foreignkey')
            batch_op.drop_constraint('fk_stix_object_publisher_org_pk_org', type_='foreignkey')
            batch_op.drop_constraint('uq_stix_object_version', type_='unique')
            batch_op.create_index('ix_stix_object_stix_id', ['stix_id'], postgresql_using='hash')
    with op.batch_alter_table('observable', table_kwargs={"sqlite_with_rowid": False}) as batch_op:
        batch_op.drop_constraint('fk_observable_object_pk_stix_object', type_='foreignkey')
        batch_op.drop_index('ix_observable_value_kind')
        batch_op.create_index('ix_observable_value', ['value'], postgresql_using='hash')


def downgrade() -> None:
    _drop_what_the_keys_would_refuse()
    with op.batch_alter_table('observable', table_kwargs={"sqlite_with_rowid": False}) as batch_op:
        batch_op.drop_index('ix_observable_value', postgresql_using='hash')
        batch_op.create_index('ix_observable_value_kind', ['value', 'kind'])
        batch_op.create_foreign_key('fk_observable_object_pk_stix_object', 'stix_object', ['object_pk'], ['pk'],
                                    ondelete='CASCADE')
    with sqlite_sequence_kept(op.get_bind(), 'stix_object'):
        with op.batch_alter_table('stix_object', table_kwargs={"sqlite_autoincrement": True}) as batch_op:
            batch_op.drop_index('ix_stix_object_stix_id', postgresql_using='hash')
            batch_op.create_unique_constraint('uq_stix_object_version',
                                              ['stix_id', 'collection_pk', 'modified', 'publisher_org_pk'])
            batch_op.create_foreign_key('fk_stix_object_publisher_org_pk_org', 'org', ['publisher_org_pk'], ['pk'],
                                        ondelete='SET NULL')
            batch_op.create_foreign_key('fk_stix_object_collection_pk_collection', 'collection', ['collection_pk'],
                                        ['pk'], ondelete='CASCADE')


def _drop_what_the_keys_would_refuse() -> None:
    """Rows the restored keys would refuse (none unless the ingest path or manual SQL broke its own
    rules): a second copy of a version, objects of a deleted collection, and what hangs off them.
    A deleted publisher is forgotten (the old foreign key's SET NULL)."""
    op.execute("DELETE FROM stix_object WHERE collection_pk NOT IN (SELECT pk FROM collection) OR pk NOT IN "
               "(SELECT MIN(pk) FROM stix_object GROUP BY stix_id, collection_pk, modified, publisher_org_pk)")
    op.execute("UPDATE stix_object SET publisher_org_pk = NULL WHERE publisher_org_pk NOT IN (SELECT pk FROM org)")
    for table in ("observable", "object_recipient"):
        op.execute(f"DELETE FROM {table} WHERE object_pk NOT IN (SELECT pk FROM stix_object)")  # noqa: S608
