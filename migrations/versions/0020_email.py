"""Email channel: attachments of received mail, suppressed (bounced) addresses, suspended mail.

Revision ID: 0020
Revises: 0019
"""
import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_messages_author_received', 'messages', ['author_id', 'received_at'])
    op.create_table(
        'email_attachments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('message_id', sa.Integer(), nullable=False),
        sa.Column('filename', sa.String(length=255), nullable=False),
        sa.Column('declared_type', sa.String(length=100), nullable=False),
        sa.Column('content_type', sa.String(length=100), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('content_id', sa.String(length=255), nullable=True),
        sa.Column('inline', sa.Boolean(), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(['message_id'], ['messages.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_email_attachments_message_id', 'email_attachments', ['message_id'])
    op.create_table(
        'email_suppressions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('channel_id', sa.Integer(), nullable=False),
        sa.Column('address', sa.String(length=254), nullable=False),
        sa.Column('reason', sa.String(length=500), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['channel_id'], ['channels.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('channel_id', 'address', name='uq_email_suppressions_address'),
    )
    op.create_table(
        'suspended_emails',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('channel_id', sa.Integer(), nullable=False),
        sa.Column('message_key', sa.String(length=255), nullable=False),
        sa.Column('sender', sa.String(length=254), nullable=False),
        sa.Column('subject', sa.String(length=500), nullable=False),
        sa.Column('reason', sa.String(length=500), nullable=False),
        sa.Column('raw', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['channel_id'], ['channels.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('channel_id', 'message_key', name='uq_suspended_emails_message'),
    )
    op.create_index('ix_suspended_emails_channel', 'suspended_emails', ['channel_id', 'id'])


def downgrade():
    op.drop_index('ix_suspended_emails_channel', table_name='suspended_emails')
    op.drop_table('suspended_emails')
    op.drop_table('email_suppressions')
    op.drop_index('ix_email_attachments_message_id', table_name='email_attachments')
    op.drop_table('email_attachments')
    op.drop_index('ix_messages_author_received', table_name='messages')
