"""Communities: group accounts, their admins, join requests, and posts in them

Revision ID: b7c4d2e9f813
Revises: 5a0c3e6d7b21
Create Date: 2026-12-05 00:00:00

Existing posts stay company-wide (community_id NULL, visibility "public").
"""

import sqlalchemy as sa
from alembic import op

import models.base

revision = "b7c4d2e9f813"
down_revision = "5a0c3e6d7b21"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users") as batch_op:
        batch_op.alter_column("email", existing_type=sa.String(length=254), nullable=True)
        batch_op.add_column(sa.Column("kind", sa.String(length=12), server_default="person", nullable=False))
        batch_op.add_column(sa.Column("locked", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table(
        "communities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("is_official", sa.Boolean(), nullable=False),
        sa.Column("archived_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["id"], ["users.id"], name=op.f("fk_communities_id_users"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_communities_created_by_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_communities")),
    )
    op.create_table(
        "community_admins",
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_community_admins_community_id_communities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_community_admins_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("community_id", "user_id", name=op.f("pk_community_admins")),
    )
    op.create_index("ix_community_admins_user_id", "community_admins", ["user_id"], unique=False)
    op.create_table(
        "follow_requests",
        sa.Column("follower_id", sa.Integer(), nullable=False),
        sa.Column("followee_id", sa.Integer(), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["follower_id"], ["users.id"], name=op.f("fk_follow_requests_follower_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["followee_id"], ["users.id"], name=op.f("fk_follow_requests_followee_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("follower_id", "followee_id", name=op.f("pk_follow_requests")),
    )
    op.create_index(
        "ix_follow_requests_followee_id_follower_id",
        "follow_requests",
        ["followee_id", "follower_id"],
        unique=False,
    )
    # SQLite copies the posts table here (once, at upgrade): it cannot add a named reference otherwise.
    with op.batch_alter_table("posts") as batch_op:
        batch_op.add_column(sa.Column("community_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_posts_community_id_users", "users", ["community_id"], ["id"], ondelete="RESTRICT"
        )
    op.add_column("posts", sa.Column("visibility", sa.String(length=10), server_default="public", nullable=False))
    op.create_index("ix_posts_community_id_id", "posts", ["community_id", sa.text("id DESC")], unique=False)
    with op.batch_alter_table("notifications") as batch_op:
        batch_op.add_column(sa.Column("community_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_notifications_community_id_users", "users", ["community_id"], ["id"], ondelete="CASCADE"
        )

def downgrade():
    with op.batch_alter_table("notifications") as batch_op:
        batch_op.drop_column("community_id")
    op.drop_index("ix_posts_community_id_id", table_name="posts")
    with op.batch_alter_table("posts") as batch_op:
        batch_op.drop_column("visibility")
        batch_op.drop_column("community_id")
    op.drop_index("ix_follow_requests_followee_id_follower_id", table_name="follow_requests")
    op.drop_table("follow_requests")
    op.drop_index("ix_community_admins_user_id", table_name="community_admins")
    op.drop_table("community_admins")
    op.drop_table("communities")
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("locked")
        batch_op.drop_column("kind")
        batch_op.alter_column("email", existing_type=sa.String(length=254), nullable=False)
