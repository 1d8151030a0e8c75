"""Mail the SMTP listener accepted and a worker has yet to read: the spool (receive now, read later).

Revision ID: 0032
Revises: 0031
"""
import sqlalchemy as sa
from alembic import op

revision = '0032'
down_revision = '0031'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'spooled_emails',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('channel_id', sa.Integer(), nullable=False),
        sa.Column('sender', sa.String(length=254), nullable=False),
        sa.Column('recipients', sa.JSON(), nullable=False),
        sa.Column('raw', sa.LargeBinary(), nullable=False),
        sa.Column('received_at', sa.DateTime(), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(['channel_id'], ['channels.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sqlite_autoincrement=True,
    )
    op.create_index('ix_spooled_emails_received_at', 'spooled_emails', ['received_at'])


def downgrade():
    op.drop_index('ix_spooled_emails_received_at', table_name='spooled_emails')
    op.drop_table('spooled_emails')
