"""API tokens get scopes, an expiry and revocation.

Before this, every token could do all its agent could, so existing tokens keep
exactly that: "read write" for everyone, plus "admin webhooks" for admins' tokens.

Revision ID: 0016
Revises: 0015
"""
import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("scopes", sa.String(64), nullable=True))
        batch.add_column(sa.Column("expires_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("revoked_at", sa.DateTime(), nullable=True))
    op.execute("UPDATE api_tokens SET scopes = 'read write'")
    op.execute("UPDATE api_tokens SET scopes = 'read write admin webhooks' "
               "WHERE agent_id IN (SELECT id FROM agents WHERE role = 'admin')")
    with op.batch_alter_table("api_tokens") as batch:
        batch.alter_column("scopes", existing_type=sa.String(64), nullable=False)


def downgrade():
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("revoked_at")
        batch.drop_column("expires_at")
        batch.drop_column("scopes")
