"""Assets: the inventory of what each organisation owns (asset) and its sector and country (org_profile).

See exchange/assets/models.py and docs/decisions/0010-assets.md.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 13:07:06.505442
"""
import sqlalchemy as sa
from alembic import op


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('asset',
    sa.Column('pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=16).with_variant(sa.String(length=16, collation='C'), 'postgresql'), nullable=False),
    sa.Column('value', sa.String(length=1024).with_variant(sa.String(length=1024, collation='C'), 'postgresql'), nullable=False),
    sa.Column('ip_lo', sa.String(length=32).with_variant(sa.String(length=32, collation='C'), 'postgresql'), nullable=True),
    sa.Column('ip_hi', sa.String(length=32).with_variant(sa.String(length=32, collation='C'), 'postgresql'), nullable=True),
    sa.Column('sw_vendor', sa.String(length=200), nullable=True),
    sa.Column('sw_product', sa.String(length=200), nullable=True),
    sa.Column('sw_version', sa.String(length=100), nullable=True),
    sa.Column('sw_purl_type', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('challenge', sa.String(length=64), nullable=False),
    sa.Column('verified_at', sa.BigInteger(), nullable=True),
    sa.Column('verified_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('verification_method', sa.String(length=16), nullable=True),
    sa.Column('verification_expires_at', sa.BigInteger(), nullable=True),
    sa.Column('checked_at', sa.BigInteger(), nullable=True),
    sa.Column('link_hash', sa.String(length=64), nullable=True),
    sa.Column('link_expires_at', sa.BigInteger(), nullable=True),
    sa.Column('link_sent_to', sa.String(length=320), nullable=True),
    sa.ForeignKeyConstraint(['org_pk'], ['org.pk'], name=op.f('fk_asset_org_pk_org'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['verified_by'], ['org.pk'], name=op.f('fk_asset_verified_by_org'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('pk', name=op.f('pk_asset')),
    sa.UniqueConstraint('link_hash', name=op.f('uq_asset_link_hash')),
    sa.UniqueConstraint('org_pk', 'kind', 'value', name=op.f('uq_asset_org_pk_kind_value'))
    )
    with op.batch_alter_table('asset', schema=None) as batch_op:
        batch_op.create_index('ix_asset_ip', ['ip_lo', 'ip_hi'], unique=False, sqlite_where=sa.text('ip_lo IS NOT NULL'), postgresql_where=sa.text('ip_lo IS NOT NULL'))
        batch_op.create_index('ix_asset_kind_value', ['kind', 'value'], unique=False)
        batch_op.create_index(batch_op.f('ix_asset_verification_expires_at'), ['verification_expires_at'], unique=False)

    op.create_table('org_profile',
    sa.Column('org_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('sector', sa.String(length=1), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('updated_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['org_pk'], ['org.pk'], name=op.f('fk_org_profile_org_pk_org'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('org_pk', name=op.f('pk_org_profile'))
    )


def downgrade() -> None:
    op.drop_table('org_profile')
    with op.batch_alter_table('asset', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_asset_verification_expires_at'))
        batch_op.drop_index('ix_asset_kind_value')
        batch_op.drop_index('ix_asset_ip', sqlite_where=sa.text('ip_lo IS NOT NULL'), postgresql_where=sa.text('ip_lo IS NOT NULL'))

    op.drop_table('asset')
