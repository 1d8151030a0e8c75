"""People: a person groups authors across channels; proposed links between authors with their evidence.

Authors gain their profile and picture addresses (evidence for a link), the
person they belong to, and indexes on email and handle (to find the same
customer elsewhere). Building those indexes reads the authors once.

Revision ID: 0024
Revises: 0018
"""
import sqlalchemy as sa
from alembic import op

revision = '0024'
down_revision = '0018'
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


def downgrade():
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
