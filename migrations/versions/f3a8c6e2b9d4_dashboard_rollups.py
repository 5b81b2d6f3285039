"""The dashboard's rollups: posts, tags and who talks to whom per local day, and what each person did each day

Revision ID: f3a8c6e2b9d4
Revises: d6b2f8a4c1e3
Create Date: 2026-12-06 10:00:00

The dashboard read every post, like, tag and mention of a period on each
view (80,000 posts in four weeks of the demo's million: half a second).  It
now reads counts per local day, kept current as posts and likes are written
(services.rollups, models.rollups): post_days, tag_days and talk_days,
first_replies (a post's wait for its first reply), and
daily_activity, which held the days a person read, now also holds whether
they posted or engaged that day (`did`), in the company and per community.

The upgrade fills them from the posts, likes, tags and mentions already
written, in the site's time zone (MICROBLOG_TIMEZONE).
"""

from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op
from flask import current_app

from models.base import UTCDateTime

revision = "f3a8c6e2b9d4"
down_revision = "d6b2f8a4c1e3"
branch_labels = None
depends_on = None


def _cell():
    return [
        sa.Column("department", sa.String(length=80), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
    ]


def upgrade():
    op.create_table(
        "post_days",
        *_cell(),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("posts", sa.Integer(), nullable=False),
        sa.Column("replies", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("department", "community_id", "day", "public", name=op.f("pk_post_days")),
    )
    op.create_table(
        "tag_days",
        *_cell(),
        sa.Column("tag_id", sa.Integer(), nullable=False),
        sa.Column("posts", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tag_id"], ["tags.id"], name=op.f("fk_tag_days_tag_id_tags"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("department", "community_id", "day", "tag_id", name=op.f("pk_tag_days")),
    )
    op.create_table(
        "talk_days",
        *_cell(),
        sa.Column("source", sa.String(length=80), nullable=False),
        sa.Column("target", sa.String(length=80), nullable=False),
        sa.Column("replies", sa.Integer(), nullable=False),
        sa.Column("mentions", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "department", "community_id", "day", "source", "target", name=op.f("pk_talk_days")
        ),
    )
    op.create_table(
        "first_replies",
        sa.Column("post_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("posted_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("department", sa.String(length=80), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["post_id"], ["posts.id"], name=op.f("fk_first_replies_post_id_posts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("post_id", name=op.f("pk_first_replies")),
    )
    op.create_index(op.f("ix_first_replies_posted_at"), "first_replies", ["posted_at"], unique=False)
    op.drop_index("ix_daily_activity_day_user_id", table_name="daily_activity")
    with op.batch_alter_table("daily_activity") as batch:
        batch.add_column(sa.Column("community_id", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("did", sa.Integer(), server_default="1", nullable=False))
        batch.drop_constraint("pk_daily_activity", type_="primary")
        batch.create_primary_key("pk_daily_activity", ["user_id", "day", "community_id"])
    op.create_index(
        "ix_daily_activity_day_user_id",
        "daily_activity",
        ["day", "community_id", "user_id", "did"],
        unique=False,
    )
    # The counts of what is already written, as the services would have kept them.
    from microblog.services import rollups

    rollups.rebuild(op.get_bind(), ZoneInfo(current_app.config["TIMEZONE"]))


def downgrade():
    op.drop_index("ix_daily_activity_day_user_id", table_name="daily_activity")
    op.execute("DELETE FROM daily_activity WHERE community_id <> 0 OR did & 1 = 0")
    with op.batch_alter_table("daily_activity") as batch:
        batch.drop_constraint("pk_daily_activity", type_="primary")
        batch.create_primary_key("pk_daily_activity", ["user_id", "day"])
        batch.drop_column("did")
        batch.drop_column("community_id")
    op.create_index("ix_daily_activity_day_user_id", "daily_activity", ["day", "user_id"], unique=False)
    op.drop_table("first_replies")
    op.drop_table("talk_days")
    op.drop_table("tag_days")
    op.drop_table("post_days")
