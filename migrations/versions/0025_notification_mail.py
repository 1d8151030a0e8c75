"""Notifications by email: an agent's opt-in and the address they go to.

Revision ID: 0025
Revises: 0024
"""
import sqlalchemy as sa
from alembic import op

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('notification_settings') as batch:
        batch.add_column(sa.Column('email_enabled', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch.add_column(sa.Column('email_address', sa.String(length=320), nullable=True))


def downgrade():
    with op.batch_alter_table('notification_settings') as batch:
        batch.drop_column('email_address')
        batch.drop_column('email_enabled')
