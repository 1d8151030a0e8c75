"""SLA policies, business-hours calendars, SLA clocks and outcomes; automatic assignment.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None



def upgrade():
    op.create_table('business_calendars',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('time_zone', sa.String(length=64), nullable=False),
    sa.Column('hours', sa.JSON(), nullable=False),
    sa.Column('holidays', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('sla_policies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('queue_id', sa.Integer(), nullable=False),
    sa.Column('priority', sa.SmallInteger(), nullable=False),
    sa.Column('first_reply_minutes', sa.Integer(), nullable=True),
    sa.Column('next_reply_minutes', sa.Integer(), nullable=True),
    sa.Column('resolution_minutes', sa.Integer(), nullable=True),
    sa.Column('business_hours', sa.Boolean(), nullable=False),
    sa.Column('calendar_id', sa.Integer(), nullable=True),
    sa.Column('at_risk_fraction', sa.Double(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['calendar_id'], ['business_calendars.id'], ),
    sa.ForeignKeyConstraint(['queue_id'], ['queues.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('queue_id', 'priority', name='uq_sla_policies_queue_priority')
    )
    op.create_table('sla_outcomes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('queue_id', sa.Integer(), nullable=True),
    sa.Column('priority', sa.SmallInteger(), nullable=False),
    sa.Column('target', sa.String(length=16), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('due_at', sa.DateTime(), nullable=False),
    sa.Column('completed_at', sa.DateTime(), nullable=True),
    sa.Column('met', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['queue_id'], ['queues.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('conversation_id', 'target', 'started_at', name='uq_sla_outcomes_target_run')
    )
    with op.batch_alter_table('sla_outcomes', schema=None) as batch_op:
        batch_op.create_index('ix_sla_outcomes_queue_due', ['queue_id', 'due_at'], unique=False)

    op.create_table('assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('queue_id', sa.Integer(), nullable=True),
    sa.Column('agent_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('strategy', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('candidates', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], ),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['queue_id'], ['queues.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assignments_conversation_id'), ['conversation_id'], unique=False)

    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sla_clock', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('sla_status', sa.String(length=16), nullable=True))
        # Existing conversations keep their due time in sla_due_at; the watcher
        # only looks at clocks started from now on.
        batch_op.add_column(sa.Column('sla_check_at', sa.DateTime(), nullable=False, server_default=sa.text(
            "'9999-12-31 00:00:00'")))
        batch_op.add_column(sa.Column('sla_paused_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('assigned_at', sa.DateTime(), nullable=True))
        batch_op.create_index('ix_conversations_sla_check', ['sla_check_at'], unique=False)
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.alter_column('sla_check_at', existing_type=sa.DateTime(), server_default=None)

    with op.batch_alter_table('queues', schema=None) as batch_op:
        batch_op.add_column(sa.Column('assignment', sa.String(length=16), nullable=False, server_default='off'))

    with op.batch_alter_table('agents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('capacity', sa.Integer(), nullable=False, server_default='10'))

    with op.batch_alter_table('queue_members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('capacity', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('last_assigned_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('queue_members', schema=None) as batch_op:
        batch_op.drop_column('last_assigned_at')
        batch_op.drop_column('capacity')
    with op.batch_alter_table('agents', schema=None) as batch_op:
        batch_op.drop_column('capacity')
    with op.batch_alter_table('queues', schema=None) as batch_op:
        batch_op.drop_column('assignment')
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_index('ix_conversations_sla_check')
        batch_op.drop_column('assigned_at')
        batch_op.drop_column('sla_paused_at')
        batch_op.drop_column('sla_check_at')
        batch_op.drop_column('sla_status')
        batch_op.drop_column('sla_clock')
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assignments_conversation_id'))
    op.drop_table('assignments')
    with op.batch_alter_table('sla_outcomes', schema=None) as batch_op:
        batch_op.drop_index('ix_sla_outcomes_queue_due')
    op.drop_table('sla_outcomes')
    op.drop_table('sla_policies')
    op.drop_table('business_calendars')
