"""Conversations that owe nothing get a far-future due time instead of NULL (exact queue paging).

Revision ID: 0005
Revises: 0004
"""
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

NOT_DUE = datetime(9999, 12, 31)
conversations = sa.table('conversations', sa.column('sla_due_at', sa.DateTime()))


def upgrade():
    op.execute(conversations.update().where(conversations.c.sla_due_at.is_(None)).values(sla_due_at=NOT_DUE))
    with op.batch_alter_table('conversations') as batch_op:
        batch_op.alter_column('sla_due_at', existing_type=sa.DateTime(), nullable=False)


def downgrade():
    with op.batch_alter_table('conversations') as batch_op:
        batch_op.alter_column('sla_due_at', existing_type=sa.DateTime(), nullable=True)
    op.execute(conversations.update().where(conversations.c.sla_due_at == NOT_DUE).values(sla_due_at=None))
