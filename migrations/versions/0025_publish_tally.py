"""Objects published per organisation and hour (``publish_tally``), kept by ingest, for the dashboard's
"published this week"; filled here from the objects already stored. The objects' (publisher, date added) index,
which only that count used (migration 0019), goes: one index less for every object stored, and one plan less
that SQLite, without statistics, could pick for a publisher's objects (it once did: 73 s at 100,000 objects).

See docs/decisions/0014-web.md ("Speed").

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 00:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None

HOUR = 3_600_000_000  # µs


def upgrade() -> None:
    op.create_table(
        'publish_tally',
        sa.Column('org_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('hour', sa.BigInteger(), nullable=False),
        sa.Column('objects', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['org_pk'], ['org.pk'], name=op.f('fk_publish_tally_org_pk_org'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('org_pk', 'hour', name=op.f('pk_publish_tally')),
    )
    op.execute(f"INSERT INTO publish_tally (org_pk, hour, objects) "
               f"SELECT publisher_org_pk, (date_added / {HOUR}) * {HOUR}, COUNT(*) FROM stix_object "
               f"WHERE publisher_org_pk IS NOT NULL GROUP BY 1, 2")
    op.drop_index('ix_stix_object_publisher_added', table_name='stix_object')


def downgrade() -> None:
    op.create_index('ix_stix_object_publisher_added', 'stix_object', ['publisher_org_pk', 'date_added'])
    op.drop_table('publish_tally')
