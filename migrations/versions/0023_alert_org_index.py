"""An index on an organisation's alerts in order (organisation, pk), for the inbox's "all" view: without it a
page of 25 sorted every alert the organisation ever had (1.2 ms at 5,000 alerts, growing with the inbox). The
open and fixed views page through (organisation, state, pk).

See docs/decisions/0014-web.md ("Speed").

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 23:00:00.000000
"""
from alembic import op

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_alert_org_pk', 'alert', ['org_pk', 'pk'])


def downgrade() -> None:
    op.drop_index('ix_alert_org_pk', table_name='alert')
