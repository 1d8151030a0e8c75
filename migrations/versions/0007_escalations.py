"""Escalations: one ticket per conversation in the ticketing system, its state synced back.

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'escalations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('conversation_id', sa.Integer(), nullable=False),
        sa.Column('agent_id', sa.Integer(), nullable=True),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('locked_until', sa.DateTime(), nullable=True),
        sa.Column('ticket_id', sa.BigInteger(), nullable=True),
        sa.Column('ticket_url', sa.String(length=2048), nullable=True),
        sa.Column('ticket_status', sa.String(length=16), nullable=True),
        sa.Column('ticket_status_at', sa.DateTime(), nullable=True),
        sa.Column('requested_at', sa.DateTime(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=True),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['agent_id'], ['agents.id']),
        sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('conversation_id'),
    )
    op.create_index('ix_escalations_state_requested', 'escalations', ['state', 'requested_at'])
    op.create_index('ix_escalations_ticket_id', 'escalations', ['ticket_id'])


def downgrade():
    op.drop_index('ix_escalations_ticket_id', table_name='escalations')
    op.drop_index('ix_escalations_state_requested', table_name='escalations')
    op.drop_table('escalations')
