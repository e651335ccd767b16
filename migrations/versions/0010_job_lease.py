"""job_lease: one row per periodic job, so each job fires once per period across every worker.

A worker claims a job's window with one conditional UPDATE (see exchange/jobs/lease.py); the rows
are created by the workers themselves for the jobs they schedule.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 10:30:00.000000
"""
import sqlalchemy as sa
from alembic import op


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'job_lease',
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('holder', sa.String(length=200), nullable=True),
        sa.Column('due_at', sa.BigInteger(), nullable=False),
        sa.Column('locked_until', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_job_lease')),
    )


def downgrade() -> None:
    op.drop_table('job_lease')
