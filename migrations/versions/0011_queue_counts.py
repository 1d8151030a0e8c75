"""Kept queue counts: a table of signed changes, written by triggers on conversations, filled from COUNT(*).

The trigger text is written out here rather than imported from the models, so
this migration keeps building what it built when the models change later.

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

SQLITE = [
    """CREATE TRIGGER queue_counts_insert AFTER INSERT ON conversations
       WHEN NEW.queue_id IS NOT NULL AND NEW.status IN ('open', 'pending')
       BEGIN
         INSERT INTO queue_counts (queue_id, open, unassigned, pending)
         VALUES (NEW.queue_id, NEW.status = 'open', NEW.status = 'open' AND NEW.assignee_id IS NULL,
                 NEW.status = 'pending');
       END""",
    """CREATE TRIGGER queue_counts_update AFTER UPDATE OF queue_id, status, assignee_id ON conversations
       WHEN (OLD.queue_id IS NOT NEW.queue_id AND (OLD.status IN ('open', 'pending') OR NEW.status IN ('open', 'pending')))
         OR (OLD.status = 'open') <> (NEW.status = 'open')
         OR (OLD.status = 'pending') <> (NEW.status = 'pending')
         OR (OLD.status = 'open' AND OLD.assignee_id IS NULL) <> (NEW.status = 'open' AND NEW.assignee_id IS NULL)
       BEGIN
         INSERT INTO queue_counts (queue_id, open, unassigned, pending)
         SELECT OLD.queue_id, -(OLD.status = 'open'), -(OLD.status = 'open' AND OLD.assignee_id IS NULL),
                -(OLD.status = 'pending')
         WHERE OLD.queue_id IS NOT NULL AND OLD.status IN ('open', 'pending');
         INSERT INTO queue_counts (queue_id, open, unassigned, pending)
         SELECT NEW.queue_id, NEW.status = 'open', NEW.status = 'open' AND NEW.assignee_id IS NULL,
                NEW.status = 'pending'
         WHERE NEW.queue_id IS NOT NULL AND NEW.status IN ('open', 'pending');
       END""",
    """CREATE TRIGGER queue_counts_delete AFTER DELETE ON conversations
       WHEN OLD.queue_id IS NOT NULL AND OLD.status IN ('open', 'pending')
       BEGIN
         INSERT INTO queue_counts (queue_id, open, unassigned, pending)
         VALUES (OLD.queue_id, -(OLD.status = 'open'), -(OLD.status = 'open' AND OLD.assignee_id IS NULL),
                 -(OLD.status = 'pending'));
       END""",
]

POSTGRESQL = [
    """CREATE OR REPLACE FUNCTION queue_counts_track() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF TG_OP <> 'INSERT' AND OLD.queue_id IS NOT NULL AND OLD.status IN ('open', 'pending') THEN
           INSERT INTO queue_counts (queue_id, open, unassigned, pending)
           VALUES (OLD.queue_id, -(OLD.status = 'open')::int,
                   -(OLD.status = 'open' AND OLD.assignee_id IS NULL)::int, -(OLD.status = 'pending')::int);
         END IF;
         IF TG_OP <> 'DELETE' AND NEW.queue_id IS NOT NULL AND NEW.status IN ('open', 'pending') THEN
           INSERT INTO queue_counts (queue_id, open, unassigned, pending)
           VALUES (NEW.queue_id, (NEW.status = 'open')::int,
                   (NEW.status = 'open' AND NEW.assignee_id IS NULL)::int, (NEW.status = 'pending')::int);
         END IF;
         RETURN NULL;
       END $$""",
    """CREATE TRIGGER queue_counts_insert AFTER INSERT ON conversations FOR EACH ROW
       WHEN (NEW.queue_id IS NOT NULL AND NEW.status IN ('open', 'pending'))
       EXECUTE FUNCTION queue_counts_track()""",
    """CREATE TRIGGER queue_counts_update AFTER UPDATE OF queue_id, status, assignee_id ON conversations FOR EACH ROW
       WHEN ((OLD.queue_id IS DISTINCT FROM NEW.queue_id
              AND (OLD.status IN ('open', 'pending') OR NEW.status IN ('open', 'pending')))
             OR (OLD.status = 'open') <> (NEW.status = 'open')
             OR (OLD.status = 'pending') <> (NEW.status = 'pending')
             OR (OLD.status = 'open' AND OLD.assignee_id IS NULL) <> (NEW.status = 'open' AND NEW.assignee_id IS NULL))
       EXECUTE FUNCTION queue_counts_track()""",
    """CREATE TRIGGER queue_counts_delete AFTER DELETE ON conversations FOR EACH ROW
       WHEN (OLD.queue_id IS NOT NULL AND OLD.status IN ('open', 'pending'))
       EXECUTE FUNCTION queue_counts_track()""",
]

# Today's counts, as one row per queue.
BACKFILL = """
    INSERT INTO queue_counts (queue_id, open, unassigned, pending)
    SELECT queue_id,
           COUNT(CASE WHEN status = 'open' THEN 1 END),
           COUNT(CASE WHEN status = 'open' AND assignee_id IS NULL THEN 1 END),
           COUNT(CASE WHEN status = 'pending' THEN 1 END)
    FROM conversations
    WHERE queue_id IS NOT NULL AND status IN ('open', 'pending')
    GROUP BY queue_id"""


def upgrade():
    op.create_table(
        'queue_counts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('queue_id', sa.Integer(), nullable=False),
        sa.Column('open', sa.Integer(), nullable=False),
        sa.Column('unassigned', sa.Integer(), nullable=False),
        sa.Column('pending', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['queue_id'], ['queues.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_queue_counts_queue', 'queue_counts', ['queue_id'])
    dialect = op.get_bind().dialect.name
    if dialect == 'postgresql':
        # Writers must wait while the backfill counts, or their changes would be counted twice.
        op.execute("LOCK TABLE conversations IN SHARE MODE")
    for statement in {'sqlite': SQLITE, 'postgresql': POSTGRESQL}[dialect]:
        op.execute(statement)
    op.execute(BACKFILL)


def downgrade():
    for name in ('queue_counts_insert', 'queue_counts_update', 'queue_counts_delete'):
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + (" ON conversations" if _postgresql() else ""))
    if _postgresql():
        op.execute("DROP FUNCTION IF EXISTS queue_counts_track()")
    op.drop_index('ix_queue_counts_queue', table_name='queue_counts')
    op.drop_table('queue_counts')


def _postgresql() -> bool:
    return op.get_bind().dialect.name == 'postgresql'
