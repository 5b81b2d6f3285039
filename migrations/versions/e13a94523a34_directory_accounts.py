"""directory accounts: users.directory_dn names the company directory entry of an account

Revision ID: e13a94523a34
Revises: ce35dae63bef
Create Date: 2026-12-02 05:58:14.055692

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "e13a94523a34"
down_revision = "ce35dae63bef"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("directory_dn", sa.String(length=512), nullable=True))


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("directory_dn")
