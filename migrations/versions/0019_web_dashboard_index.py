"""Web dashboard: an index on (publisher, date added), so "published this week" is a range of one
organisation's entries, not every object of the week filtered by publisher.

See docs/decisions/0014-web.md ("Speed").

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 06:20:00.000000
"""
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_stix_object_publisher_added', 'stix_object', ['publisher_org_pk', 'date_added'])


def downgrade() -> None:
    op.drop_index('ix_stix_object_publisher_added', table_name='stix_object')
