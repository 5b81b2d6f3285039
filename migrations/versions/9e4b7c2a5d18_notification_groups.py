"""Notification groups: Mastodon's group_key on each notification, for /api/v2/notifications

Revision ID: 9e4b7c2a5d18
Revises: d7f1b3e5a9c2
Create Date: 2026-12-07 09:00:00

Existing likes and follows are given the group keys they would have had, by the rule that
services.notifications.group_keys applies to new ones (written out here, so that this migration
keeps doing what it did): a like of a post, or a follow, joins the recipient's latest group of
it when that group began less than 12 hours before; otherwise it begins a group at its own hour.
"""

import sqlalchemy as sa
from alembic import op

import models.base

revision = "9e4b7c2a5d18"
down_revision = "d7f1b3e5a9c2"
branch_labels = None
depends_on = None

SPAN_HOURS = 12
BATCH = 5000

notifications = sa.table(
    "notifications",
    sa.column("id", sa.BigInteger()),
    sa.column("user_id", sa.Integer()),
    sa.column("kind", sa.String()),
    sa.column("post_id", sa.BigInteger()),
    sa.column("created_at", models.base.UTCDateTime(timezone=True)),
    sa.column("group_key", sa.String()),
)


def upgrade():
    with op.batch_alter_table("notifications") as batch_op:
        batch_op.add_column(sa.Column("group_key", sa.String(length=64), nullable=True))
    op.create_index(
        "ix_notifications_user_id_group_key_id",
        "notifications",
        ["user_id", "group_key", "id"],
        unique=False,
    )
    _backfill(op.get_bind())


def _backfill(conn) -> None:
    """Give existing likes and follows their group keys, oldest first, a batch at a time."""
    latest: dict[tuple[int, str], int] = {}  # (recipient, "favourite-<post>" or "follow") -> its group's hour
    after = 0
    while True:
        rows = conn.execute(
            sa.select(
                notifications.c.id,
                notifications.c.user_id,
                notifications.c.kind,
                notifications.c.post_id,
                notifications.c.created_at,
            )
            .where(notifications.c.id > after, notifications.c.kind.in_(["favourite", "follow"]))
            .order_by(notifications.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        keys = []
        for note_id, user_id, kind, post_id, created_at in rows:
            if kind == "favourite" and post_id is None:
                continue
            prefix = f"favourite-{post_id}" if kind == "favourite" else "follow"
            hour = int(created_at.timestamp()) // 3600
            previous = latest.get((user_id, prefix))
            if previous is not None and hour < previous + SPAN_HOURS:
                hour = previous
            latest[(user_id, prefix)] = hour
            keys.append({"note_id": note_id, "key": f"{prefix}-{hour}"})
        if keys:
            conn.execute(
                notifications.update()
                .where(notifications.c.id == sa.bindparam("note_id"))
                .values(group_key=sa.bindparam("key")),
                keys,
            )
        after = rows[-1][0]


def downgrade():
    op.drop_index("ix_notifications_user_id_group_key_id", table_name="notifications")
    with op.batch_alter_table("notifications") as batch_op:
        batch_op.drop_column("group_key")
