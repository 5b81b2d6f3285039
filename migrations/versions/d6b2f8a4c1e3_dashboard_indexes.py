"""The dashboard's indexes: posts and likes by time, replies and questions by time, inbox items by when received

Revision ID: d6b2f8a4c1e3
Revises: c4e2a7f9d1b3
Create Date: 2026-12-07 10:00:00

Each measure of the dashboard reads one period of one kind of row, and these
let it read just those rows (services.dashboard_measures):
- "engaged people" counts who liked something in a week: without an index on
  likes.created_at, each view reads every like ever made;
- replies are one post in twenty: the replies of a period, from a partial
  index, instead of every post of the period fetched to look at
  in_reply_to_id (the replied share: 1.3 s -> see bench/dashboard.py);
- questions likewise, one post in twenty;
- the team inbox figures of the whole company have no team to start from;
- posts by time holds who wrote each post, its community, whether it is a
  reply and its visibility: posts per day, posting people and top
  communities are counted from the index alone, without fetching each of
  the period's posts (80,000 in four weeks of the demo's million).  It
  replaces the index of created_at alone, which it serves as well (search
  by dates).  Likes by time hold who liked what, likewise;
- a post's tags and mentions, by post, hold the tag and the person too: the
  top tags and who talks to whom read no row of post_tags or mentions.
"""

import sqlalchemy as sa
from alembic import op

revision = "d6b2f8a4c1e3"
down_revision = "c4e2a7f9d1b3"
branch_labels = None
depends_on = None


POSTS_PERIOD = ["created_at", "author_id", "posted_by_id", "community_id", "in_reply_to_id", "visibility"]


def upgrade():
    op.create_index("ix_posts_period", "posts", POSTS_PERIOD, unique=False)
    op.drop_index("ix_posts_created_at", table_name="posts")
    op.create_index("ix_likes_created_at", "likes", ["created_at", "user_id", "post_id"], unique=False)
    _widen("post_tags", "ix_post_tags_post_id", ["post_id", "tag_id"])
    _widen("mentions", "ix_mentions_post_id", ["post_id", "user_id"])
    replies = sa.text("in_reply_to_id IS NOT NULL")
    op.create_index(
        "ix_posts_replies_created_at",
        "posts",
        ["created_at"],
        unique=False,
        postgresql_where=replies,
        sqlite_where=replies,
    )
    op.create_index(
        "ix_posts_questions_created_at",
        "posts",
        ["created_at"],
        unique=False,
        postgresql_where=sa.text("is_question"),
        sqlite_where=sa.text("is_question = 1"),
    )
    op.create_index(
        "ix_inbox_items_received_at", "inbox_items", ["received_at", "first_answer_seconds"], unique=False
    )


def _widen(table, name, columns):
    op.drop_index(name, table_name=table)
    op.create_index(name, table, columns, unique=False)


def downgrade():
    _widen("mentions", "ix_mentions_post_id", ["post_id"])
    _widen("post_tags", "ix_post_tags_post_id", ["post_id"])
    op.drop_index("ix_inbox_items_received_at", table_name="inbox_items")
    op.drop_index("ix_posts_questions_created_at", table_name="posts")
    op.drop_index("ix_posts_replies_created_at", table_name="posts")
    op.drop_index("ix_likes_created_at", table_name="likes")
    op.create_index("ix_posts_created_at", "posts", ["created_at"], unique=False)
    op.drop_index("ix_posts_period", table_name="posts")
