"""The console: queue membership, sign-out everywhere, reply delivery state, first reply time, customer notes.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 14:27:46.538620

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('queue_members',
    sa.Column('queue_id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['queue_id'], ['queues.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('queue_id', 'agent_id')
    )
    op.create_table('author_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], ),
    sa.ForeignKeyConstraint(['author_id'], ['authors.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('author_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_author_notes_author_id'), ['author_id'], unique=False)

    with op.batch_alter_table('agents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), nullable=False, server_default='1'))

    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('first_reply_at', sa.DateTime(), nullable=True))

    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('delivery_status', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('delivery_error', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('delivery_attempts', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('delivered_at', sa.DateTime(), nullable=True))



def downgrade():
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_column('delivered_at')
        batch_op.drop_column('delivery_attempts')
        batch_op.drop_column('delivery_error')
        batch_op.drop_column('delivery_status')

    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_column('first_reply_at')

    with op.batch_alter_table('agents', schema=None) as batch_op:
        batch_op.drop_column('session_version')

    with op.batch_alter_table('author_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_author_notes_author_id'))

    op.drop_table('author_notes')
    op.drop_table('queue_members')
