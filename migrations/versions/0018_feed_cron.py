"""Feeds: a cron schedule (``feed.cron``), replacing the interval when set.

See exchange/feeds/schedule.py and docs/decisions/0013-connectors.md.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 02:30:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('feed', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cron', sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('feed', schema=None) as batch_op:
        batch_op.drop_column('cron')
