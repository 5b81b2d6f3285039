"""Settled post ids (PostgreSQL): a transaction writing a post is known to be in progress before it has its id

Kept home timelines (services.kept_homes) keep the ids of a home up to a
watermark below which no post may still appear.  PostgreSQL's sequence hands
ids to transactions that commit in another order, so a process must know
that no transaction holding a lower id is still in progress.  A new post's
id default, next_post_id(), takes a shared advisory lock for the rest of its
transaction before it takes the id; settled_post_id() takes the lock
exclusively if nobody holds it, and then every id handed out so far belongs
to a transaction that has ended.  Run alone (autocommit), its lock lasts the
statement.  SQLite writes one transaction at a time: nothing changes there.

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

# The advisory lock's key: "posts" in ASCII, held shared by each transaction writing a post.
WRITING_POSTS = 0x706F737473


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"""
        CREATE FUNCTION next_post_id() RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
        BEGIN
            PERFORM pg_advisory_xact_lock_shared({WRITING_POSTS});  -- until this transaction ends
            RETURN nextval('posts_id_seq');
        END
        $$
        """
    )
    op.execute(
        f"""
        CREATE FUNCTION settled_post_id() RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
        BEGIN
            IF NOT pg_try_advisory_xact_lock({WRITING_POSTS}) THEN
                RETURN NULL;  -- a post's transaction is in progress
            END IF;
            RETURN (SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM posts_id_seq);
        END
        $$
        """
    )
    op.execute("ALTER TABLE posts ALTER COLUMN id SET DEFAULT next_post_id()")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE posts ALTER COLUMN id SET DEFAULT nextval('posts_id_seq')")
    op.execute("DROP FUNCTION settled_post_id()")
    op.execute("DROP FUNCTION next_post_id()")
