"""Alerts: one row per (organisation, object, match) and the alert_event outbox delivery reads.

See exchange/alerts/models.py and docs/decisions/0011-alerts.md.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 18:09:06.185885
"""
import sqlalchemy as sa
from alembic import op


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('alert',
    sa.Column('pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('asset_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('match_key', sa.String(length=64).with_variant(sa.String(length=64, collation='C'), 'postgresql'), nullable=False),
    sa.Column('object_id', sa.String(length=100).with_variant(sa.String(length=100, collation='C'), 'postgresql'), nullable=False),
    sa.Column('object_modified', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=16).with_variant(sa.String(length=16, collation='C'), 'postgresql'), nullable=False),
    sa.Column('severity', sa.String(length=8).with_variant(sa.String(length=8, collation='C'), 'postgresql'), nullable=False),
    sa.Column('grade', sa.String(length=16).with_variant(sa.String(length=16, collation='C'), 'postgresql'), nullable=False),
    sa.Column('state', sa.String(length=16).with_variant(sa.String(length=16, collation='C'), 'postgresql'), nullable=False),
    sa.Column('matched', sa.String(length=1024), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.BigInteger(), nullable=False),
    sa.Column('answered_at', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['asset_pk'], ['asset.pk'], name=op.f('fk_alert_asset_pk_asset'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['org_pk'], ['org.pk'], name=op.f('fk_alert_org_pk_org'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('pk', name=op.f('pk_alert')),
    sa.UniqueConstraint('org_pk', 'object_id', 'match_key', name=op.f('uq_alert_org_pk_object_id_match_key'))
    )
    with op.batch_alter_table('alert', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_asset_pk'), ['asset_pk'], unique=False)
        batch_op.create_index('ix_alert_object', ['object_id'], unique=False)
        batch_op.create_index('ix_alert_org_state', ['org_pk', 'state', 'pk'], unique=False)

    op.create_table('alert_event',
    sa.Column('pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('alert_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('type', sa.String(length=16).with_variant(sa.String(length=16, collation='C'), 'postgresql'), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('dispatched_at', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['alert_pk'], ['alert.pk'], name=op.f('fk_alert_event_alert_pk_alert'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_pk'], ['org.pk'], name=op.f('fk_alert_event_org_pk_org'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('pk', name=op.f('pk_alert_event'))
    )
    with op.batch_alter_table('alert_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_event_alert_pk'), ['alert_pk'], unique=False)
        batch_op.create_index(batch_op.f('ix_alert_event_org_pk'), ['org_pk'], unique=False)
        batch_op.create_index('ix_alert_event_pending', ['pk'], unique=False, sqlite_where=sa.text('dispatched_at IS NULL'), postgresql_where=sa.text('dispatched_at IS NULL'))



def downgrade() -> None:
    with op.batch_alter_table('alert_event', schema=None) as batch_op:
        batch_op.drop_index('ix_alert_event_pending', sqlite_where=sa.text('dispatched_at IS NULL'), postgresql_where=sa.text('dispatched_at IS NULL'))
        batch_op.drop_index(batch_op.f('ix_alert_event_org_pk'))
        batch_op.drop_index(batch_op.f('ix_alert_event_alert_pk'))

    op.drop_table('alert_event')
    with op.batch_alter_table('alert', schema=None) as batch_op:
        batch_op.drop_index('ix_alert_org_state')
        batch_op.drop_index('ix_alert_object')
        batch_op.drop_index(batch_op.f('ix_alert_asset_pk'))

    op.drop_table('alert')
