"""Web portal: browser sessions, one-time sign-in links, a person's language.

See exchange/web/models.py and docs/decisions/0014-web.md.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 02:40:00
"""
import sqlalchemy as sa
from alembic import op


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

PK = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    for table in ('web_session', 'web_signin_link'):
        op.create_table(table,
        sa.Column('pk', PK, nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('user_pk', PK, nullable=False),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
        *((sa.Column('last_seen_at', sa.BigInteger(), nullable=False),) if table == 'web_session' else ()),
        sa.Column('expires_at', sa.BigInteger(), nullable=False),
        *((sa.Column('used_at', sa.BigInteger(), nullable=True),) if table == 'web_signin_link' else ()),
        sa.ForeignKeyConstraint(['user_pk'], ['app_user.pk'], name=op.f(f'fk_{table}_user_pk_app_user'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('pk', name=op.f(f'pk_{table}')),
        sa.UniqueConstraint('token_hash', name=op.f(f'uq_{table}_token_hash'))
        )
        op.create_index(op.f(f'ix_{table}_user_pk'), table, ['user_pk'], unique=False)
    op.create_table('web_preference',
    sa.Column('user_pk', PK, nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('updated_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['user_pk'], ['app_user.pk'], name=op.f('fk_web_preference_user_pk_app_user'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_pk', name=op.f('pk_web_preference'))
    )


def downgrade() -> None:
    op.drop_table('web_preference')
    for table in ('web_signin_link', 'web_session'):
        op.drop_index(op.f(f'ix_{table}_user_pk'), table_name=table)
        op.drop_table(table)
