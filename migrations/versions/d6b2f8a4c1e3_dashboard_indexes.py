"""The dashboard's indexes: likes by time

Revision ID: d6b2f8a4c1e3
Revises: a1c5e9d3b7f2
Create Date: 2026-12-07 10:00:00

"Engaged people" counts who liked something in a week: without an index on
likes.created_at, each view of the dashboard reads every like ever made.
"""

from alembic import op

revision = "d6b2f8a4c1e3"
down_revision = "a1c5e9d3b7f2"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_likes_created_at", "likes", ["created_at"], unique=False)


def downgrade():
    op.drop_index("ix_likes_created_at", table_name="likes")
