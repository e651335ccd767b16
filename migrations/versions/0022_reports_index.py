"""A partial index of each producer's reports (its advisories page, newest first): without it the page read
every object the producer ever published to find its reports (21 ms at 100,000 indicators). Partial, so the
indicators that make most of a store cost no index write.

See docs/decisions/0014-web.md ("Speed").

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 22:50:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_stix_object_reports', 'stix_object', ['publisher_org_pk', 'pk'],
                    sqlite_where=sa.text("type = 'report'"), postgresql_where=sa.text("type = 'report'"))


def downgrade() -> None:
    op.drop_index('ix_stix_object_reports', table_name='stix_object')
