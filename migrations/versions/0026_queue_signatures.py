"""Per-queue email signatures, appended to email replies sent from the queue.

Revision ID: 0026
Revises: 0025
"""
import sqlalchemy as sa
from alembic import op

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('queues') as batch:
        batch.add_column(sa.Column('signature', sa.Text(), server_default='', nullable=False))


def downgrade():
    with op.batch_alter_table('queues') as batch:
        batch.drop_column('signature')
