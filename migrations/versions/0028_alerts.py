"""Engineering alerts: incidents posted to Slack (and a ticket each), the weekly report mailed on a schedule.

Revision ID: 0028
Revises: 0027
"""
import sqlalchemy as sa
from alembic import op

revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'alert_settings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('slack_webhook_url', sa.String(length=2048), nullable=True),
        sa.Column('incident_tickets', sa.Boolean(), nullable=False),
        sa.Column('report_enabled', sa.Boolean(), nullable=False),
        sa.Column('report_recipients', sa.JSON(), nullable=False),
        sa.Column('report_weekday', sa.Integer(), nullable=False),
        sa.Column('report_hour', sa.Integer(), nullable=False),
        sa.Column('report_last_week', sa.String(length=10), nullable=True),
        sa.Column('report_last_sent_at', sa.DateTime(), nullable=True),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_table(
        'incident_alerts',
        sa.Column('incident_id', sa.Integer(), nullable=False),
        sa.Column('posted_size', sa.Integer(), nullable=False),
        sa.Column('posts', sa.Integer(), nullable=False),
        sa.Column('last_posted_at', sa.DateTime(), nullable=True),
        sa.Column('ticket_id', sa.BigInteger(), nullable=True),
        sa.Column('ticket_url', sa.String(length=2048), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('incident_id'),
    )


def downgrade():
    op.drop_table('incident_alerts')
    op.drop_table('alert_settings')
