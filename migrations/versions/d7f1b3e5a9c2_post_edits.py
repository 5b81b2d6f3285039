"""Edited posts: when a post was last edited, and its earlier versions (Mastodon's edits and history)

Revision ID: d7f1b3e5a9c2
Revises: c4e9a2d7b1f5
Create Date: 2026-12-06 14:00:00
"""

import sqlalchemy as sa
from alembic import op

import models.base

revision = "d7f1b3e5a9c2"
down_revision = "c4e9a2d7b1f5"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    # A plain ADD COLUMN (nullable, no default): no copy of the posts table on either database.
    op.add_column("posts", sa.Column("edited_at", models.base.UTCDateTime(timezone=True), nullable=True))
    op.create_table(
        "post_edits",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("post_id", BIG_ID, nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("editor_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["post_id"], ["posts.id"], name=op.f("fk_post_edits_post_id_posts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["editor_id"], ["users.id"], name=op.f("fk_post_edits_editor_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_post_edits")),
    )
    op.create_index("ix_post_edits_post_id_id", "post_edits", ["post_id", "id"])


def downgrade():
    op.drop_table("post_edits")
    with op.batch_alter_table("posts") as batch:
        batch.drop_column("edited_at")
