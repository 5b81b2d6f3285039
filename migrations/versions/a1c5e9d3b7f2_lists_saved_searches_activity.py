"""Lists and saved searches (with their hits), daily activity, and new posts marked in the search outbox

Revision ID: a1c5e9d3b7f2
Revises: 7c2d9e4f1a6b
Create Date: 2026-12-06 05:10:00

Saved searches stream what matches them as posts are written; stock Mastodon
clients see them, beside ordinary lists of accounts, as lists.  daily_activity
holds one row per person per day they used the site: what "weekly active
people" counts.
"""

import sqlalchemy as sa
from alembic import op

revision = "a1c5e9d3b7f2"
down_revision = "7c2d9e4f1a6b"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    op.create_table(
        "lists",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("replies_policy", sa.String(length=10), nullable=False),
        sa.Column("exclusive", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("in_home", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("notify", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("last_read_id", BigId, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_lists_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lists")),
        sqlite_autoincrement=True,  # a deleted list's id is never another's (its streams may be open)
    )
    op.create_index("ix_lists_user_id_id", "lists", ["user_id", "id"], unique=False)
    op.create_index("ix_lists_kind_id", "lists", ["kind", "id"], unique=False)
    op.create_table(
        "list_accounts",
        sa.Column("list_id", BigId, nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["users.id"], name=op.f("fk_list_accounts_account_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["list_id"], ["lists.id"], name=op.f("fk_list_accounts_list_id_lists"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("list_id", "account_id", name=op.f("pk_list_accounts")),
    )
    op.create_index(
        "ix_list_accounts_account_id_list_id", "list_accounts", ["account_id", "list_id"], unique=False
    )
    op.create_table(
        "list_hits",
        sa.Column("list_id", BigId, nullable=False),
        sa.Column("post_id", BigId, nullable=False),
        sa.ForeignKeyConstraint(
            ["list_id"], ["lists.id"], name=op.f("fk_list_hits_list_id_lists"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["post_id"], ["posts.id"], name=op.f("fk_list_hits_post_id_posts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("list_id", "post_id", name=op.f("pk_list_hits")),
    )
    op.create_index("ix_list_hits_post_id", "list_hits", ["post_id"], unique=False)
    op.create_table(
        "daily_activity",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_daily_activity_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "day", name=op.f("pk_daily_activity")),
    )
    op.create_index("ix_daily_activity_day_user_id", "daily_activity", ["day", "user_id"], unique=False)
    # A plain ADD COLUMN: recreating the table (batch mode) would drop its AUTOINCREMENT on SQLite.
    op.add_column("search_outbox", sa.Column("new_post", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table("search_outbox", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_column("new_post")
    op.drop_index("ix_daily_activity_day_user_id", table_name="daily_activity")
    op.drop_table("daily_activity")
    op.drop_index("ix_list_hits_post_id", table_name="list_hits")
    op.drop_table("list_hits")
    op.drop_index("ix_list_accounts_account_id_list_id", table_name="list_accounts")
    op.drop_table("list_accounts")
    op.drop_index("ix_lists_kind_id", table_name="lists")
    op.drop_index("ix_lists_user_id_id", table_name="lists")
    op.drop_table("lists")
