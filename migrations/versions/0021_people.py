"""People: a person groups authors across channels; proposed links between authors with their evidence.
Conversation merges and splits, and the duplicate's pointer to where it was merged.
Messages deleted at their source (hidden) and the versions edits there replaced.

Authors gain their profile and picture addresses (evidence for a link), the
person they belong to, and indexes on email and handle (to find the same
customer elsewhere). Building those indexes reads the authors once.

Revision ID: 0021
Revises: 0020
"""
import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'people',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=255), nullable=False),
        sa.Column('fields', sa.JSON(), nullable=False),
        sa.Column('merged_into_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['merged_into_id'], ['people.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    # Plain ADD COLUMNs: a batch copy of authors would fail on SQLite while conversations point at its rows.
    op.add_column('authors', sa.Column('profile_url', sa.String(length=2048), nullable=True))
    op.add_column('authors', sa.Column('avatar_url', sa.String(length=2048), nullable=True))
    if op.get_bind().dialect.name == 'sqlite':  # SQLite declares the reference in the column itself
        op.execute('ALTER TABLE authors ADD COLUMN person_id INTEGER REFERENCES people (id)')
    else:
        op.add_column('authors', sa.Column('person_id', sa.Integer(), nullable=True))
        op.create_foreign_key('fk_authors_person_id', 'authors', 'people', ['person_id'], ['id'])
    op.create_index('ix_authors_person_id', 'authors', ['person_id'])
    op.create_index('ix_authors_email', 'authors', ['email'])
    op.create_index('ix_authors_handle', 'authors', ['handle'])
    op.create_table(
        'person_links',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=False),
        sa.Column('other_author_id', sa.Integer(), nullable=False),
        sa.Column('evidence', sa.JSON(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('proposed_by_id', sa.Integer(), nullable=True),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.Column('merge', sa.JSON(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('decided_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['author_id'], ['authors.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['other_author_id'], ['authors.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['proposed_by_id'], ['agents.id']),
        sa.ForeignKeyConstraint(['decided_by_id'], ['agents.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('author_id', 'other_author_id'),
    )
    op.create_index('ix_person_links_other', 'person_links', ['other_author_id'])
    op.create_index('ix_person_links_status', 'person_links', ['status', 'id'])
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE conversations ADD COLUMN merged_into_id INTEGER REFERENCES conversations (id)')
    else:
        op.add_column('conversations', sa.Column('merged_into_id', sa.Integer(), nullable=True))
        op.create_foreign_key('fk_conversations_merged_into_id', 'conversations', 'conversations',
                              ['merged_into_id'], ['id'])
    op.add_column('messages', sa.Column('hidden_at', sa.DateTime(), nullable=True))
    op.add_column('messages', sa.Column('edits', sa.JSON(), nullable=True))
    op.create_table(
        'conversation_merges',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('source_id', sa.Integer(), nullable=False),
        sa.Column('target_id', sa.Integer(), nullable=False),
        sa.Column('agent_id', sa.Integer(), nullable=True),
        sa.Column('message_ids', sa.JSON(), nullable=False),
        sa.Column('before', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('undone_at', sa.DateTime(), nullable=True),
        sa.Column('undone_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['source_id'], ['conversations.id']),
        sa.ForeignKeyConstraint(['target_id'], ['conversations.id']),
        sa.ForeignKeyConstraint(['agent_id'], ['agents.id']),
        sa.ForeignKeyConstraint(['undone_by_id'], ['agents.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_conversation_merges_source', 'conversation_merges', ['source_id', 'undone_at'])
    op.create_index('ix_conversation_merges_target_id', 'conversation_merges', ['target_id'])


def downgrade():
    op.drop_index('ix_conversation_merges_target_id', table_name='conversation_merges')
    op.drop_index('ix_conversation_merges_source', table_name='conversation_merges')
    op.drop_table('conversation_merges')
    with op.batch_alter_table('messages') as batch:
        batch.drop_column('edits')
        batch.drop_column('hidden_at')
    with op.batch_alter_table('conversations') as batch:
        if op.get_bind().dialect.name != 'sqlite':
            batch.drop_constraint('fk_conversations_merged_into_id', type_='foreignkey')
        batch.drop_column('merged_into_id')
    op.drop_index('ix_person_links_status', table_name='person_links')
    op.drop_index('ix_person_links_other', table_name='person_links')
    op.drop_table('person_links')
    op.drop_index('ix_authors_handle', table_name='authors')
    op.drop_index('ix_authors_email', table_name='authors')
    op.drop_index('ix_authors_person_id', table_name='authors')
    with op.batch_alter_table('authors') as batch:
        if op.get_bind().dialect.name != 'sqlite':
            batch.drop_constraint('fk_authors_person_id', type_='foreignkey')
        for column in ('person_id', 'avatar_url', 'profile_url'):
            batch.drop_column(column)
    op.drop_table('people')
