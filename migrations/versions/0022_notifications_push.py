"""Notifications, Web Push subscriptions, each agent's push settings, and on-call rotas.

Revision ID: 0022
Revises: 0021
"""
import sqlalchemy as sa
from alembic import op

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'notifications',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('agent_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('key', sa.String(length=120), nullable=False),
        sa.Column('conversation_id', sa.Integer(), nullable=True),
        sa.Column('incident_id', sa.Integer(), nullable=True),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('read_at', sa.DateTime(), nullable=True),
        sa.Column('pushed_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['actor_id'], ['agents.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('agent_id', 'key', name='uq_notifications_agent_key'),
    )
    op.create_index('ix_notifications_agent_read', 'notifications', ['agent_id', 'read_at', 'id'])
    op.create_index('ix_notifications_unpushed', 'notifications', ['pushed_at', 'agent_id'])
    op.create_index('ix_notifications_conversation', 'notifications', ['conversation_id', 'kind'])
    op.create_index('ix_notifications_kind_unread', 'notifications', ['kind', 'read_at', 'created_at'])
    op.create_table(
        'push_subscriptions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('agent_id', sa.Integer(), nullable=False),
        sa.Column('endpoint', sa.String(length=2048), nullable=False),
        sa.Column('p256dh', sa.String(length=200), nullable=False),
        sa.Column('auth', sa.String(length=100), nullable=False),
        sa.Column('label', sa.String(length=120), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('last_sent_at', sa.DateTime(), nullable=True),
        sa.Column('last_error', sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('endpoint'),
    )
    op.create_index('ix_push_subscriptions_agent_id', 'push_subscriptions', ['agent_id'])
    op.create_table(
        'notification_settings',
        sa.Column('agent_id', sa.Integer(), nullable=False),
        sa.Column('kinds', sa.JSON(), nullable=False),
        sa.Column('priorities', sa.JSON(), nullable=False),
        sa.Column('muted_queue_ids', sa.JSON(), nullable=False),
        sa.Column('time_zone', sa.String(length=64), nullable=False),
        sa.Column('quiet_start', sa.String(length=5), nullable=True),
        sa.Column('quiet_end', sa.String(length=5), nullable=True),
        sa.Column('only_when_away', sa.Boolean(), nullable=False),
        sa.Column('include_text', sa.Boolean(), nullable=False),
        sa.Column('webhook_url', sa.String(length=2048), nullable=True),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('agent_id'),
    )
    op.create_table(
        'on_call_shifts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('queue_id', sa.Integer(), nullable=False),
        sa.Column('agent_id', sa.Integer(), nullable=False),
        sa.Column('weekday', sa.SmallInteger(), nullable=True),
        sa.Column('on_date', sa.Date(), nullable=True),
        sa.Column('start', sa.String(length=5), nullable=False),
        sa.Column('end', sa.String(length=5), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['queue_id'], ['queues.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_on_call_shifts_queue', 'on_call_shifts', ['queue_id', 'on_date', 'weekday'])


def downgrade():
    op.drop_index('ix_on_call_shifts_queue', table_name='on_call_shifts')
    op.drop_table('on_call_shifts')
    op.drop_table('notification_settings')
    op.drop_index('ix_push_subscriptions_agent_id', table_name='push_subscriptions')
    op.drop_table('push_subscriptions')
    op.drop_index('ix_notifications_kind_unread', table_name='notifications')
    op.drop_index('ix_notifications_conversation', table_name='notifications')
    op.drop_index('ix_notifications_unpushed', table_name='notifications')
    op.drop_index('ix_notifications_agent_read', table_name='notifications')
    op.drop_table('notifications')
