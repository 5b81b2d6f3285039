"""Images attached to posts (Mastodon's media attachments)

Revision ID: e5a8c3f1d7b4
Revises: 9e4b7c2a5d18
Create Date: 2026-12-06 15:00:00
"""

import sqlalchemy as sa
from alembic import op

import models.base

revision = "e5a8c3f1d7b4"
down_revision = "9e4b7c2a5d18"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    op.create_table(
        "media_attachments",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("post_id", BIG_ID, nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("content_type", sa.String(length=20), nullable=False),
        sa.Column("ext", sa.String(length=5), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("small_width", sa.Integer(), nullable=False),
        sa.Column("small_height", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("focus_x", sa.Float(), nullable=False),
        sa.Column("focus_y", sa.Float(), nullable=False),
        sa.Column("blurhash", sa.String(length=100), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_media_attachments_owner_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["post_id"], ["posts.id"], name=op.f("fk_media_attachments_post_id_posts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media_attachments")),
        sa.UniqueConstraint("key", name=op.f("uq_media_attachments_key")),
    )
    op.create_index("ix_media_attachments_post_id_position", "media_attachments", ["post_id", "position"])
    op.create_index(
        "ix_media_attachments_unattached",
        "media_attachments",
        ["created_at"],
        sqlite_where=sa.text("post_id IS NULL"),
        postgresql_where=sa.text("post_id IS NULL"),
    )
    op.create_index("ix_media_attachments_owner_id", "media_attachments", ["owner_id"])


def downgrade():
    op.drop_table("media_attachments")
