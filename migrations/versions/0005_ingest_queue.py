"""The ingest queue: TAXII envelopes accepted with a pending status, stored in the background.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 10:05:00.000000
"""
import sqlalchemy as sa
from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ingest_job',
    sa.Column('pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('status_id', sa.String(length=36), nullable=False),
    sa.Column('api_root_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('collection_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('actor', sa.String(length=400), nullable=False),
    sa.Column('remote_addr', sa.String(length=64), nullable=True),
    sa.Column('requested_at', sa.BigInteger(), nullable=False),
    sa.Column('object_count', sa.BigInteger(), nullable=False),
    sa.Column('leased_by', sa.String(length=36), nullable=True),
    sa.Column('leased_until', sa.BigInteger(), nullable=True),
    sa.Column('payload', sa.LargeBinary(), nullable=False),
    sa.Column('pending_status', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['api_root_pk'], ['api_root.pk'], name=op.f('fk_ingest_job_api_root_pk_api_root'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['collection_pk'], ['collection.pk'],
                            name=op.f('fk_ingest_job_collection_pk_collection'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_pk'], ['org.pk'], name=op.f('fk_ingest_job_org_pk_org'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('pk', name=op.f('pk_ingest_job')),
    sa.UniqueConstraint('status_id', name=op.f('uq_ingest_job_status_id'))
    )


def downgrade() -> None:
    op.drop_table('ingest_job')
