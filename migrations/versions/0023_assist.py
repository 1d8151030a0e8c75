"""Agent assist: help articles, suggestion versions, the suggestions shown beside conversations, and the macro
answering an incident.

Revision ID: 0023
Revises: 0022
"""
import sqlalchemy as sa
from alembic import op


revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'articles',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('slug', sa.String(120), nullable=False, unique=True),
        sa.Column('title', sa.String(200), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('tags', sa.JSON(), nullable=False),
        sa.Column('queue_id', sa.Integer(), sa.ForeignKey('queues.id', ondelete='SET NULL'), nullable=True),
        sa.Column('locale', sa.String(16), nullable=False),
        sa.Column('status', sa.String(16), nullable=False),
        sa.Column('external_url', sa.String(2048), nullable=True),
        sa.Column('source', sa.String(16), nullable=False),
        sa.Column('created_by_id', sa.Integer(), sa.ForeignKey('agents.id'), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
    )
    op.create_index('ix_articles_status_updated', 'articles', ['status', 'updated_at'])
    op.create_table(
        'suggestion_versions',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('watermark', sa.JSON(), nullable=False),
        sa.Column('metrics', sa.JSON(), nullable=False),
        sa.Column('training_size', sa.Integer(), nullable=False),
        sa.Column('decision', sa.Text(), nullable=False),
        sa.Column('trained_at', sa.DateTime(), nullable=False),
        sa.Column('promoted_at', sa.DateTime(), nullable=True),
    )
    op.create_index('ix_suggestion_versions_active', 'suggestion_versions', ['active'])
    op.create_table(
        'suggestions',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('conversation_id', sa.Integer(), sa.ForeignKey('conversations.id', ondelete='CASCADE'),
                  nullable=False),
        sa.Column('version_id', sa.Integer(), sa.ForeignKey('suggestion_versions.id', ondelete='CASCADE'),
                  nullable=False),
        sa.Column('message_id', sa.Integer(), sa.ForeignKey('messages.id', ondelete='CASCADE'), nullable=False),
        sa.Column('kind', sa.String(8), nullable=False),
        sa.Column('macro_id', sa.Integer(), sa.ForeignKey('macros.id', ondelete='CASCADE'), nullable=True),
        sa.Column('article_id', sa.Integer(), sa.ForeignKey('articles.id', ondelete='CASCADE'), nullable=True),
        sa.Column('source_message_id', sa.Integer(), sa.ForeignKey('messages.id', ondelete='CASCADE'),
                  nullable=True),
        sa.Column('rank', sa.Integer(), nullable=False),
        sa.Column('confidence', sa.Float(), nullable=False),
        sa.Column('evidence', sa.String(16), nullable=False),
        sa.Column('outcome', sa.String(8), nullable=False),
        sa.Column('agent_id', sa.Integer(), sa.ForeignKey('agents.id'), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('shown_at', sa.DateTime(), nullable=True),
        sa.Column('decided_at', sa.DateTime(), nullable=True),
    )
    op.create_index('ix_suggestions_conversation', 'suggestions', ['conversation_id', 'id'])
    op.create_index('ix_suggestions_version_outcome', 'suggestions', ['version_id', 'outcome'])
    with op.batch_alter_table('incidents') as batch:
        batch.add_column(sa.Column('answer_macro_id', sa.Integer(), nullable=True))
        batch.create_foreign_key('fk_incidents_answer_macro', 'macros', ['answer_macro_id'], ['id'],
                                 ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('incidents') as batch:
        batch.drop_constraint('fk_incidents_answer_macro', type_='foreignkey')
        batch.drop_column('answer_macro_id')
    op.drop_index('ix_suggestions_version_outcome', 'suggestions')
    op.drop_index('ix_suggestions_conversation', 'suggestions')
    op.drop_table('suggestions')
    op.drop_index('ix_suggestion_versions_active', 'suggestion_versions')
    op.drop_table('suggestion_versions')
    op.drop_index('ix_articles_status_updated', 'articles')
    op.drop_table('articles')
