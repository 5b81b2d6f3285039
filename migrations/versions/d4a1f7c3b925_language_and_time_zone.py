"""Language and time zone: users.locale and users.timezone, chosen in Settings

Revision ID: d4a1f7c3b925
Revises: b7c4d2e9f813
Create Date: 2026-12-05 01:20:00

"""

import sqlalchemy as sa
from alembic import op

revision = "d4a1f7c3b925"
down_revision = "b7c4d2e9f813"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("users", sa.Column("locale", sa.String(length=10), nullable=True))
    op.add_column("users", sa.Column("timezone", sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("timezone")
        batch_op.drop_column("locale")
