"""Saved views: an agent's or a team's named filter sets.

Revision ID: 0030
Revises: 0029
"""
import sqlalchemy as sa
from alembic import op

revision = '0030'
down_revision = '0029'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'saved_views',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('owner_id', sa.Integer(), nullable=False),
        sa.Column('team_queue_id', sa.Integer(), nullable=True),
        sa.Column('filters', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['owner_id'], ['agents.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['team_queue_id'], ['queues.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_saved_views_owner_id', 'saved_views', ['owner_id'])
    op.create_index('ix_saved_views_team_queue_id', 'saved_views', ['team_queue_id'])


def downgrade():
    op.drop_index('ix_saved_views_team_queue_id', table_name='saved_views')
    op.drop_index('ix_saved_views_owner_id', table_name='saved_views')
    op.drop_table('saved_views')
