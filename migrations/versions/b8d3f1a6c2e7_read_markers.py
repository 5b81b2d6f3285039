"""Read markers: where each person stopped reading home and notifications (Mastodon's /api/v1/markers)

Revision ID: b8d3f1a6c2e7
Revises: f3a8c6e2b9d4
Create Date: 2026-12-06 10:30:00
"""

import sqlalchemy as sa
from alembic import op

import models.base

revision = "b8d3f1a6c2e7"
down_revision = "f3a8c6e2b9d4"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "markers",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("timeline", sa.String(length=20), nullable=False),
        sa.Column("last_read_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_markers_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "timeline", name=op.f("pk_markers")),
    )


def downgrade():
    op.drop_table("markers")
