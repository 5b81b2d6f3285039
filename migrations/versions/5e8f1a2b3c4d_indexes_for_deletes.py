"""Indexes on the new references to posts and people; search outbox ids never reused on SQLite

Revision ID: 5e8f1a2b3c4d
Revises: 27385dba1357
Create Date: 2026-12-05 22:30:00

Without them, deleting a post scanned every post for an accepted answer
pointing at it (about 0.6 s per delete on 1,000,000 posts).

On SQLite the search outbox's ids came back once the newest row was drained:
an indexer deleting the rows it had read, by id, could delete another
process's newer row before its post was indexed.  AUTOINCREMENT ends that
(PostgreSQL's sequence never reuses an id).
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
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table(
            "search_outbox", recreate="always", table_kwargs={"sqlite_autoincrement": True}
        ):
            pass


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table(
            "search_outbox", recreate="always", table_kwargs={"sqlite_autoincrement": False}
        ):
            pass
    for column in ("answer_post_id", "asker_id", "assignee_id"):
        op.drop_index(f"ix_inbox_items_{column}", table_name="inbox_items")
    for column in ("accepted_answer_id", "posted_by_id"):
        op.drop_index(f"ix_posts_{column}", table_name="posts")
