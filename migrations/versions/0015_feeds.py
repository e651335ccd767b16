"""Feeds: the feed records, their run history and the items of snapshot feeds.

See exchange/feeds/models.py and docs/decisions/0013-connectors.md.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 18:29:26.401070
"""
import sqlalchemy as sa
from alembic import op


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('feed',
    sa.Column('pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=64).with_variant(sa.String(length=64, collation='C'), 'postgresql'), nullable=False),
    sa.Column('kind', sa.String(length=16).with_variant(sa.String(length=16, collation='C'), 'postgresql'), nullable=False),
    sa.Column('url', sa.String(length=2048), nullable=False),
    sa.Column('username', sa.String(length=200), nullable=True),
    sa.Column('password_env', sa.String(length=100), nullable=True),
    sa.Column('owner_org_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('collection_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('tlp', sa.String(length=16), nullable=True),
    sa.Column('confidence', sa.Integer(), nullable=True),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('every_seconds', sa.Integer(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('bookmark', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('last_run_at', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['collection_pk'], ['collection.pk'], name=op.f('fk_feed_collection_pk_collection'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['owner_org_pk'], ['org.pk'], name=op.f('fk_feed_owner_org_pk_org'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('pk', name=op.f('pk_feed')),
    sa.UniqueConstraint('name', name=op.f('uq_feed_name'))
    )
    op.create_table('feed_item',
    sa.Column('feed_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('stix_id', sa.String(length=100).with_variant(sa.String(length=100, collation='C'), 'postgresql'), nullable=False),
    sa.Column('seen_run_pk', sa.BigInteger(), nullable=False),
    sa.Column('expired', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['feed_pk'], ['feed.pk'], name=op.f('fk_feed_item_feed_pk_feed'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('feed_pk', 'stix_id', name=op.f('pk_feed_item'))
    )
    with op.batch_alter_table('feed_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feed_item_seen_run_pk'), ['seen_run_pk'], unique=False)

    op.create_table('feed_run',
    sa.Column('pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('feed_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('started_at', sa.BigInteger(), nullable=False),
    sa.Column('ended_at', sa.BigInteger(), nullable=True),
    sa.Column('fetched', sa.BigInteger(), nullable=False),
    sa.Column('added', sa.BigInteger(), nullable=False),
    sa.Column('duplicates', sa.BigInteger(), nullable=False),
    sa.Column('rejected', sa.BigInteger(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('problems', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['feed_pk'], ['feed.pk'], name=op.f('fk_feed_run_feed_pk_feed'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('pk', name=op.f('pk_feed_run'))
    )
    with op.batch_alter_table('feed_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feed_run_feed_pk'), ['feed_pk'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('feed_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feed_run_feed_pk'))

    op.drop_table('feed_run')
    with op.batch_alter_table('feed_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feed_item_seen_run_pk'))

    op.drop_table('feed_item')
    op.drop_table('feed')
