"""Indexes that keep the dashboard's and the weekly report's reads flat as the store grows.

The oldest wait per queue, the volume and agent drill-downs, agents' loads and
the weekly report's SLA hits each read a range of one of these instead of a
queue's (or the table's) every row. Building them reads the conversations once:
minutes at millions of rows, during which writes to conversations wait.

Revision ID: 0018
Revises: 0017
"""
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

INDEXES = [
    ('ix_conversations_queue_waiting', 'conversations', ['queue_id', 'status', 'waiting_since']),
    ('ix_conversations_queue_recent', 'conversations', ['queue_id', 'last_message_at']),
    ('ix_conversations_assignee_order', 'conversations',
     ['assignee_id', 'status', 'priority', 'sla_due_at', 'created_at', 'id']),
    ('ix_sla_outcomes_queue_completed', 'sla_outcomes', ['queue_id', 'completed_at']),
]


def upgrade():
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade():
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
