"""An index on organisations by role and key: the read rule asks whether a reader is an admin organisation in
every statement that checks many (organisation, object) pairs at once (alert matching, inbox pages), and
PostgreSQL answered it by scanning every organisation (1.3 ms an inbox page at 10,000 organisations); the
roster lists the SMEs in order from the same index.

See docs/decisions/0014-web.md ("Speed").

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06 23:10:00.000000
"""
from alembic import op

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_org_role_pk', 'org', ['role', 'pk'])


def downgrade() -> None:
    op.drop_index('ix_org_role_pk', table_name='org')
