"""Browser logins: a row per log-in instead of one session token per user

Revision ID: 5a0c3e6d7b21
Revises: e13a94523a34
Create Date: 2026-12-04 21:40:00

"""

import secrets

import sqlalchemy as sa
from alembic import op

import models.base

revision = "5a0c3e6d7b21"
down_revision = "e13a94523a34"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "logins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_logins_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_logins")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_logins_secret_hash")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_logins_user_id", "logins", ["user_id"], unique=False)
    # Sessions signed with the old per-user token end: everyone logs in once more.
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_constraint("uq_users_session_token", type_="unique")
        batch_op.drop_column("session_token")


def downgrade():
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(sa.Column("session_token", sa.String(length=64), nullable=True))
    bind = op.get_bind()
    for (user_id,) in bind.execute(sa.text("SELECT id FROM users")):
        bind.execute(
            sa.text("UPDATE users SET session_token = :token WHERE id = :id"),
            {"token": secrets.token_hex(16), "id": user_id},
        )
    with op.batch_alter_table("users") as batch_op:
        batch_op.alter_column("session_token", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint("uq_users_session_token", ["session_token"])
    op.drop_index("ix_logins_user_id", table_name="logins")
    op.drop_table("logins")
