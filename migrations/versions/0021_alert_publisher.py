"""Alerts name the organisation that published the version they are about, with an index on (publisher,
created), so a producer's alerts of the week are a range of one index instead of a probe of the object table
for every alert of the hub. Existing alerts take the publisher of the version that alerted (of the newest
version when that one is gone).

See docs/decisions/0014-web.md ("Speed").

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 22:40:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('alert', sa.Column('publisher_org_pk', sa.BigInteger(), nullable=True))
    op.execute(
        "UPDATE alert SET publisher_org_pk = COALESCE("
        "(SELECT s.publisher_org_pk FROM stix_object s WHERE s.stix_id = alert.object_id "
        "AND s.modified = alert.object_modified ORDER BY s.pk LIMIT 1), "
        "(SELECT s.publisher_org_pk FROM stix_object s WHERE s.stix_id = alert.object_id ORDER BY s.pk DESC LIMIT 1))")
    op.create_index('ix_alert_publisher_created', 'alert', ['publisher_org_pk', 'created_at'])


def downgrade() -> None:
    op.drop_index('ix_alert_publisher_created', table_name='alert')
    with op.batch_alter_table('alert') as batch:
        batch.drop_column('publisher_org_pk')
