"""Indexes on the new references to posts and people, so that deleting one finds its referrers at once

Revision ID: 5e8f1a2b3c4d
Revises: 27385dba1357
Create Date: 2026-12-05 22:30:00

Without them, deleting a post scanned every post for an accepted answer
pointing at it (about 0.6 s per delete on 1,000,000 posts).
"""

import sqlalchemy as sa
from alembic import op

revision = "5e8f1a2b3c4d"
down_revision = "27385dba1357"
branch_labels = None
depends_on = None


def upgrade():
    for column in ("accepted_answer_id", "posted_by_id"):
        op.create_index(
            f"ix_posts_{column}",
            "posts",
            [column],
            unique=False,
            postgresql_where=sa.text(f"{column} IS NOT NULL"),
            sqlite_where=sa.text(f"{column} IS NOT NULL"),
        )
    for column in ("answer_post_id", "asker_id", "assignee_id"):
        op.create_index(f"ix_inbox_items_{column}", "inbox_items", [column], unique=False)


def downgrade():
    for column in ("answer_post_id", "asker_id", "assignee_id"):
        op.drop_index(f"ix_inbox_items_{column}", table_name="inbox_items")
    for column in ("accepted_answer_id", "posted_by_id"):
        op.drop_index(f"ix_posts_{column}", table_name="posts")
