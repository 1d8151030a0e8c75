"""An index on conversations' SLA status, for the dashboard's at-risk and breached figures.

Revision ID: 0012
Revises: 0011
"""
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_conversations_sla_status', 'conversations', ['sla_status', 'status', 'queue_id'])


def downgrade():
    op.drop_index('ix_conversations_sla_status', table_name='conversations')
