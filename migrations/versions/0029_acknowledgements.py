"""Acknowledgements: a channel's automatic first reply, and what marks a message a machine wrote.

Revision ID: 0029
Revises: 0028
"""
import sqlalchemy as sa
from alembic import op

revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('channels') as batch:
        batch.add_column(sa.Column('acknowledgement', sa.JSON(), nullable=True))
    with op.batch_alter_table('messages') as batch:
        batch.add_column(sa.Column('automatic', sa.String(length=32), nullable=True))


def downgrade():
    with op.batch_alter_table('messages') as batch:
        batch.drop_column('automatic')
    with op.batch_alter_table('channels') as batch:
        batch.drop_column('acknowledgement')
