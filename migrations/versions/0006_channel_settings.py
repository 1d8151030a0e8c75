"""Real senders: channel settings, private conversations, authors' trust level, reply delivery keys.

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('channels') as batch_op:
        batch_op.add_column(sa.Column('settings', sa.JSON(), nullable=False, server_default='{}'))
    with op.batch_alter_table('conversations') as batch_op:
        batch_op.add_column(sa.Column('private', sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table('authors') as batch_op:
        batch_op.add_column(sa.Column('trust_level', sa.SmallInteger(), nullable=True))
    with op.batch_alter_table('messages') as batch_op:
        batch_op.add_column(sa.Column('delivery_key', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('delivery_attempted_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('messages') as batch_op:
        batch_op.drop_column('delivery_attempted_at')
        batch_op.drop_column('delivery_key')
    with op.batch_alter_table('authors') as batch_op:
        batch_op.drop_column('trust_level')
    with op.batch_alter_table('conversations') as batch_op:
        batch_op.drop_column('private')
    with op.batch_alter_table('channels') as batch_op:
        batch_op.drop_column('settings')
