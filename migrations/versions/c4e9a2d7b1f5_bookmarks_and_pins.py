"""Bookmarks and pinned posts (Mastodon's bookmarks and pins; a community's pinned posts)

Revision ID: c4e9a2d7b1f5
Revises: b8d3f1a6c2e7
Create Date: 2026-12-06 13:00:00
"""

import sqlalchemy as sa
from alembic import op

import models.base

revision = "c4e9a2d7b1f5"
down_revision = "b8d3f1a6c2e7"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    op.create_table(
        "bookmarks",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("post_id", BIG_ID, nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["post_id"], ["posts.id"], name=op.f("fk_bookmarks_post_id_posts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_bookmarks_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bookmarks")),
        sa.UniqueConstraint("user_id", "post_id", name="uq_bookmarks_user_id_post_id"),
    )
    op.create_index("ix_bookmarks_user_id_id", "bookmarks", ["user_id", "id"])
    op.create_index("ix_bookmarks_post_id", "bookmarks", ["post_id"])
    op.create_table(
        "pins",
        sa.Column("post_id", BIG_ID, nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["post_id"], ["posts.id"], name=op.f("fk_pins_post_id_posts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["users.id"], name=op.f("fk_pins_account_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("post_id", "account_id", name=op.f("pk_pins")),
    )
    op.create_index("ix_pins_account_id_created_at", "pins", ["account_id", "created_at"])


def downgrade():
    op.drop_table("pins")
    op.drop_table("bookmarks")
