"""The outbound event deliveries still pending, indexed for the sweeper (a partial index).

Revision ID: 0031
Revises: 0030
"""
import sqlalchemy as sa
from alembic import op

revision = '0031'
down_revision = '0030'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_event_deliveries_pending', 'event_deliveries', ['created_at'],
                    sqlite_where=sa.text("state = 'pending'"), postgresql_where=sa.text("state = 'pending'"))


def downgrade():
    op.drop_index('ix_event_deliveries_pending', table_name='event_deliveries')
