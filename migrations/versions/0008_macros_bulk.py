"""Macros (templates + actions, scoped), usage per agent, bulk actions with a result per conversation, snoozing.

Revision ID: 0008
Revises: 0007

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('macros',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('template', sa.Text(), nullable=False),
    sa.Column('actions', sa.JSON(), nullable=False),
    sa.Column('scope', sa.String(length=16), nullable=False),
    sa.Column('queue_id', sa.Integer(), nullable=True),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['agents.id'], ),
    sa.ForeignKeyConstraint(['queue_id'], ['queues.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('macros', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_macros_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_macros_queue_id'), ['queue_id'], unique=False)

    op.create_table('bulk_actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('macro_id', sa.Integer(), nullable=True),
    sa.Column('template', sa.Text(), nullable=False),
    sa.Column('actions', sa.JSON(), nullable=False),
    sa.Column('selection', sa.JSON(), nullable=False),
    sa.Column('include_locked', sa.Boolean(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('skipped', sa.Integer(), nullable=False),
    sa.Column('failed', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('undone_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], ),
    sa.ForeignKeyConstraint(['macro_id'], ['macros.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('bulk_actions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bulk_actions_agent_id'), ['agent_id'], unique=False)

    op.create_table('macro_usage',
    sa.Column('macro_id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('last_used_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['macro_id'], ['macros.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('macro_id', 'agent_id')
    )
    op.create_table('bulk_items',
    sa.Column('bulk_id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('result', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('changed_at', sa.DateTime(), nullable=True),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['bulk_id'], ['bulk_actions.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('bulk_id', 'conversation_id')
    )
    with op.batch_alter_table('bulk_items', schema=None) as batch_op:
        batch_op.create_index('ix_bulk_items_progress', ['bulk_id', 'result', 'position'], unique=False)

    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('snoozed_until', sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_conversations_snoozed_until'), ['snoozed_until'], unique=False)



def downgrade():
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conversations_snoozed_until'))
        batch_op.drop_column('snoozed_until')

    with op.batch_alter_table('bulk_items', schema=None) as batch_op:
        batch_op.drop_index('ix_bulk_items_progress')

    op.drop_table('bulk_items')
    op.drop_table('macro_usage')
    with op.batch_alter_table('bulk_actions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bulk_actions_agent_id'))

    op.drop_table('bulk_actions')
    with op.batch_alter_table('macros', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_macros_queue_id'))
        batch_op.drop_index(batch_op.f('ix_macros_owner_id'))

    op.drop_table('macros')
