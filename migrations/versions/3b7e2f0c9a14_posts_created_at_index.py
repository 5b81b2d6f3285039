"""posts created_at index, for search by dates

Revision ID: 3b7e2f0c9a14
Revises: 8cddd01967d2
Create Date: 2026-12-01 23:40:00.000000

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '3b7e2f0c9a14'
down_revision = '8cddd01967d2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.create_index('ix_posts_created_at', ['created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.drop_index('ix_posts_created_at')
