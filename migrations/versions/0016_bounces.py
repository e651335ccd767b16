"""Bounces: when an e-mail subscription's address was refused for good (exchange/alerts/delivery/bounces.py).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 02:40:00
"""
import sqlalchemy as sa
from alembic import op


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('subscription') as batch:
        batch.add_column(sa.Column('bounced_at', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('subscription') as batch:
        batch.drop_column('bounced_at')
