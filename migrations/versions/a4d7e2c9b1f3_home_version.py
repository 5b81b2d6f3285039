"""home version: users.home_version counts the changes that move older posts in or out of a home timeline

Revision ID: a4d7e2c9b1f3
Revises: b2f6d9a4c8e1
Create Date: 2026-12-06 23:50:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a4d7e2c9b1f3"
down_revision = "b2f6d9a4c8e1"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("home_version", sa.Integer(), server_default="0", nullable=False))


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("home_version")
