"""The queue-order index also covers live queue counts (adds assignee_id).

Revision ID: 0004
Revises: 0003
"""
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

ORDER = ['queue_id', 'status', 'priority', 'sla_due_at', 'created_at', 'id']


def upgrade():
    op.drop_index('ix_conversations_queue_order', table_name='conversations')
    op.create_index('ix_conversations_queue_order', 'conversations', ORDER + ['assignee_id'])


def downgrade():
    op.drop_index('ix_conversations_queue_order', table_name='conversations')
    op.create_index('ix_conversations_queue_order', 'conversations', ORDER)
