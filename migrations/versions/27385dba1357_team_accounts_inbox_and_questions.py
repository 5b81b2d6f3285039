"""Team accounts, their shared inbox, and questions with accepted answers

Revision ID: 27385dba1357
Revises: d4a1f7c3b925
Create Date: 2026-12-05 21:57:17

Existing posts are no questions and were written by their authors (posted_by_id NULL).
"""

import sqlalchemy as sa
from alembic import op

import models.base

revision = "27385dba1357"
down_revision = "d4a1f7c3b925"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    op.create_table(
        "team_members",
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"], ["users.id"], name=op.f("fk_team_members_team_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_team_members_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("team_id", "user_id", name=op.f("pk_team_members")),
    )
    op.create_index("ix_team_members_user_id", "team_members", ["user_id"], unique=False)
    op.create_table(
        "inbox_items",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("post_id", BigId, nullable=False),
        sa.Column("asker_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("received_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answered_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("first_answer_seconds", sa.Integer(), nullable=True),
        sa.Column("answer_post_id", BigId, nullable=True),
        sa.Column("closed_reason", sa.String(length=200), nullable=False),
        sa.Column("changed_by_id", sa.Integer(), nullable=True),
        sa.Column("changed_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["answer_post_id"],
            ["posts.id"],
            name=op.f("fk_inbox_items_answer_post_id_posts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["asker_id"], ["users.id"], name=op.f("fk_inbox_items_asker_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["assignee_id"], ["users.id"], name=op.f("fk_inbox_items_assignee_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["changed_by_id"],
            ["users.id"],
            name=op.f("fk_inbox_items_changed_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["post_id"], ["posts.id"], name=op.f("fk_inbox_items_post_id_posts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["users.id"], name=op.f("fk_inbox_items_team_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox_items")),
        sa.UniqueConstraint("team_id", "post_id", name="uq_inbox_items_team_id_post_id"),
    )
    op.create_index("ix_inbox_items_post_id", "inbox_items", ["post_id"], unique=False)
    op.create_index(
        "ix_inbox_items_team_id_received_at", "inbox_items", ["team_id", "received_at"], unique=False
    )
    op.create_index(
        "ix_inbox_items_team_id_state_id", "inbox_items", ["team_id", "state", "id"], unique=False
    )
    with op.batch_alter_table("access_tokens") as batch_op:
        batch_op.add_column(sa.Column("on_behalf_of_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_access_tokens_on_behalf_of_id_users", "users", ["on_behalf_of_id"], ["id"], ondelete="CASCADE"
        )
    op.create_index("ix_access_tokens_on_behalf_of_id", "access_tokens", ["on_behalf_of_id"], unique=False)
    # SQLite copies the posts table here (once, at upgrade): it cannot add a named reference otherwise.
    with op.batch_alter_table("posts") as batch_op:
        batch_op.add_column(sa.Column("posted_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("is_question", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("accepted_answer_id", BigId, nullable=True))
        batch_op.add_column(
            sa.Column("answer_accepted_at", models.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_foreign_key(
            "fk_posts_accepted_answer_id_posts", "posts", ["accepted_answer_id"], ["id"], ondelete="SET NULL"
        )
        batch_op.create_foreign_key(
            "fk_posts_posted_by_id_users", "users", ["posted_by_id"], ["id"], ondelete="SET NULL"
        )
    op.create_index(
        "ix_posts_open_questions",
        "posts",
        [sa.text("id DESC")],
        unique=False,
        postgresql_where=sa.text("is_question AND accepted_answer_id IS NULL"),
        sqlite_where=sa.text("is_question = 1 AND accepted_answer_id IS NULL"),
    )
    op.create_index(
        "ix_posts_questions",
        "posts",
        [sa.text("id DESC")],
        unique=False,
        postgresql_where=sa.text("is_question"),
        sqlite_where=sa.text("is_question = 1"),
    )


def downgrade():
    op.drop_index("ix_posts_questions", table_name="posts")
    op.drop_index("ix_posts_open_questions", table_name="posts")
    with op.batch_alter_table("posts") as batch_op:
        batch_op.drop_column("answer_accepted_at")
        batch_op.drop_column("accepted_answer_id")
        batch_op.drop_column("is_question")
        batch_op.drop_column("posted_by_id")
    op.drop_index("ix_access_tokens_on_behalf_of_id", table_name="access_tokens")
    with op.batch_alter_table("access_tokens") as batch_op:
        batch_op.drop_column("on_behalf_of_id")
    op.drop_index("ix_inbox_items_team_id_state_id", table_name="inbox_items")
    op.drop_index("ix_inbox_items_team_id_received_at", table_name="inbox_items")
    op.drop_index("ix_inbox_items_post_id", table_name="inbox_items")
    op.drop_table("inbox_items")
    op.drop_index("ix_team_members_user_id", table_name="team_members")
    op.drop_table("team_members")
