"""Post ids after transaction ids (PostgreSQL): a new post's transaction has its id before the post has one

Kept home timelines (services.kept_homes) settle which post ids can still
appear from the transactions a read saw in progress; that needs every
transaction to have its transaction id before it takes a post id.  An
INSERT takes the column default first and its transaction id only as the
row is written, so the default takes the transaction id itself.
SQLite writes one transaction at a time: nothing changes there.

Revision ID: c7e3a9d5f2b8
Revises: a4d7e2c9b1f3
Create Date: 2026-12-07 06:30:00.000000

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "c7e3a9d5f2b8"
down_revision = "a4d7e2c9b1f3"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        """
        CREATE FUNCTION next_post_id() RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
        BEGIN
            PERFORM pg_current_xact_id();  -- this transaction's id first, then the post's
            RETURN nextval('posts_id_seq');
        END
        $$
        """
    )
    op.execute("ALTER TABLE posts ALTER COLUMN id SET DEFAULT next_post_id()")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE posts ALTER COLUMN id SET DEFAULT nextval('posts_id_seq')")
    op.execute("DROP FUNCTION next_post_id()")
