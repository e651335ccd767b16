"""Alert matching: the matching job's cursor, answers that suppress repeats, withheld alerts, the links' key.

See exchange/alerts/models.py and docs/decisions/0011-alerts.md.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 18:27:29.173478
"""
import secrets

import sqlalchemy as sa
from alembic import op


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('alert_cursor',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('last_pk', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_alert_cursor'))
    )
    op.create_table('alert_suppression',
    sa.Column('org_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('asset_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('matched', sa.String(length=1024).with_variant(sa.String(length=1024, collation='C'), 'postgresql'), nullable=False),
    sa.Column('state', sa.String(length=16).with_variant(sa.String(length=16, collation='C'), 'postgresql'), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['asset_pk'], ['asset.pk'], name=op.f('fk_alert_suppression_asset_pk_asset'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_pk'], ['org.pk'], name=op.f('fk_alert_suppression_org_pk_org'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('org_pk', 'asset_pk', 'matched', name=op.f('pk_alert_suppression'))
    )
    with op.batch_alter_table('alert', schema=None) as batch_op:
        batch_op.add_column(sa.Column('withheld', sa.Boolean(), server_default=sa.false(), nullable=False))
    # The key that signs the one-click answer links of alerts (exchange/alerts/links.py).
    hub_secret = sa.table("hub_secret", sa.column("name", sa.String), sa.column("value", sa.String))
    op.bulk_insert(hub_secret, [{"name": "alert-links", "value": secrets.token_hex(32)}])


def downgrade() -> None:
    op.execute("DELETE FROM hub_secret WHERE name = 'alert-links'")
    with op.batch_alter_table('alert', schema=None) as batch_op:
        batch_op.drop_column('withheld')
    op.drop_table('alert_suppression')
    op.drop_table('alert_cursor')
