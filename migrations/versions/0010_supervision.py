"""Supervision: per-5-minute volume rollups, incidents and their conversations, QA reviews, report indexes.

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('volume_counts',
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('bucket_start', sa.DateTime(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('posts', sa.Integer(), nullable=False),
    sa.Column('sentiment_sum', sa.Double(), nullable=False),
    sa.Column('negative', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('kind', 'bucket_start', 'key')
    )
    op.create_table('incidents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('match_kind', sa.String(length=8), nullable=True),
    sa.Column('match_value', sa.String(length=120), nullable=True),
    sa.Column('spike', sa.JSON(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('resolved_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['agents.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_incidents_status', 'incidents', ['status', 'id'], unique=False)
    op.create_table('incident_conversations',
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('added_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('incident_id', 'conversation_id')
    )
    op.create_index('ix_incident_conversations_conversation', 'incident_conversations', ['conversation_id'],
                    unique=False)
    op.create_table('qa_reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=False),
    sa.Column('accuracy', sa.SmallInteger(), nullable=False),
    sa.Column('tone', sa.SmallInteger(), nullable=False),
    sa.Column('resolution', sa.SmallInteger(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], ),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reviewer_id'], ['agents.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('message_id', name='uq_qa_reviews_message')
    )
    op.create_index('ix_qa_reviews_agent', 'qa_reviews', ['agent_id', 'created_at'], unique=False)
    op.create_index('ix_conversations_first_reply_at', 'conversations', ['first_reply_at'], unique=False)
    op.create_index('ix_conversations_resolved_at', 'conversations', ['resolved_at', 'assignee_id'], unique=False)


def downgrade():
    op.drop_index('ix_conversations_resolved_at', table_name='conversations')
    op.drop_index('ix_conversations_first_reply_at', table_name='conversations')
    op.drop_index('ix_qa_reviews_agent', table_name='qa_reviews')
    op.drop_table('qa_reviews')
    op.drop_index('ix_incident_conversations_conversation', table_name='incident_conversations')
    op.drop_table('incident_conversations')
    op.drop_index('ix_incidents_status', table_name='incidents')
    op.drop_table('incidents')
    op.drop_table('volume_counts')
