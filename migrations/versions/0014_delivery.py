"""Delivery: subscriptions, webhook signing secrets, and the delivery rows (docs/decisions/0012-delivery.md).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 18:28:20.105607
"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('subscription',
    sa.Column('pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('channel', sa.String(length=8).with_variant(sa.String(length=8, collation='C'), 'postgresql'), nullable=False),
    sa.Column('address', sa.String(length=2048), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('min_severity', sa.String(length=8).with_variant(sa.String(length=8, collation='C'), 'postgresql'), nullable=False),
    sa.Column('digest', sa.String(length=8).with_variant(sa.String(length=8, collation='C'), 'postgresql'), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('digest_hour', sa.Integer(), nullable=False),
    sa.Column('categories', sa.String(length=64), nullable=False),
    sa.Column('consented_at', sa.BigInteger(), nullable=True),
    sa.Column('disabled_at', sa.BigInteger(), nullable=True),
    sa.Column('disabled_reason', sa.String(length=500), nullable=True),
    sa.Column('last_digest_at', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['org_pk'], ['org.pk'], name=op.f('fk_subscription_org_pk_org'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('pk', name=op.f('pk_subscription')),
    sa.UniqueConstraint('org_pk', 'channel', 'address', name=op.f('uq_subscription_org_pk_channel_address'))
    )
    op.create_table('webhook_secret',
    sa.Column('pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('subscription_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('secret', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('expires_at', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['subscription_pk'], ['subscription.pk'], name=op.f('fk_webhook_secret_subscription_pk_subscription'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('pk', name=op.f('pk_webhook_secret'))
    )
    with op.batch_alter_table('webhook_secret', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_secret_subscription_pk'), ['subscription_pk'], unique=False)

    op.create_table('delivery',
    sa.Column('pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('event_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('subscription_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('alert_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('digest_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('digest_due', sa.BigInteger(), nullable=True),
    sa.Column('status', sa.String(length=16).with_variant(sa.String(length=16, collation='C'), 'postgresql'), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_at', sa.BigInteger(), nullable=False),
    sa.Column('leased_by', sa.String(length=200), nullable=True),
    sa.Column('leased_until', sa.BigInteger(), nullable=True),
    sa.Column('sent_at', sa.BigInteger(), nullable=True),
    sa.Column('last_error', sa.String(length=1000), nullable=True),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['alert_pk'], ['alert.pk'], name=op.f('fk_delivery_alert_pk_alert'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['digest_pk'], ['delivery.pk'], name=op.f('fk_delivery_digest_pk_delivery'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['event_pk'], ['alert_event.pk'], name=op.f('fk_delivery_event_pk_alert_event'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_pk'], ['org.pk'], name=op.f('fk_delivery_org_pk_org'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['subscription_pk'], ['subscription.pk'], name=op.f('fk_delivery_subscription_pk_subscription'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('pk', name=op.f('pk_delivery')),
    sa.UniqueConstraint('event_pk', 'subscription_pk', name=op.f('uq_delivery_event_pk_subscription_pk')),
    sa.UniqueConstraint('subscription_pk', 'digest_due', name=op.f('uq_delivery_subscription_pk_digest_due'))
    )
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delivery_alert_pk'), ['alert_pk'], unique=False)
        batch_op.create_index(batch_op.f('ix_delivery_digest_pk'), ['digest_pk'], unique=False)
        batch_op.create_index('ix_delivery_due', ['next_at'], unique=False, sqlite_where=sa.text("status = 'pending'"), postgresql_where=sa.text("status = 'pending'"))
        batch_op.create_index('ix_delivery_org_status', ['org_pk', 'status', 'pk'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.drop_index('ix_delivery_org_status')
        batch_op.drop_index('ix_delivery_due', sqlite_where=sa.text("status = 'pending'"), postgresql_where=sa.text("status = 'pending'"))
        batch_op.drop_index(batch_op.f('ix_delivery_digest_pk'))
        batch_op.drop_index(batch_op.f('ix_delivery_alert_pk'))

    op.drop_table('delivery')
    with op.batch_alter_table('webhook_secret', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_secret_subscription_pk'))

    op.drop_table('webhook_secret')
    op.drop_table('subscription')
