"""Languages: the detected language of each routed message and of its conversation (searchable).

Revision ID: 0019
Revises: 0018
"""
import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('messages') as batch:
        batch.add_column(sa.Column('language', sa.String(length=8), nullable=True))
    with op.batch_alter_table('conversations') as batch:
        batch.add_column(sa.Column('language', sa.String(length=8), nullable=True))
    op.create_index('ix_conversations_language', 'conversations', ['language'])


def downgrade():
    op.drop_index('ix_conversations_language', table_name='conversations')
    with op.batch_alter_table('conversations') as batch:
        batch.drop_column('language')
    with op.batch_alter_table('messages') as batch:
        batch.drop_column('language')
