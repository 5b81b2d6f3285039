"""Settled post ids (PostgreSQL): a transaction writing a post is known to be in progress before it has its id

Kept home timelines (services.kept_homes) keep the ids of a home up to a
watermark below which no post may still appear.  PostgreSQL's sequence hands
ids to transactions that commit in another order, so a process must know
that no transaction holding a lower id is still in progress.  A new post's
id default, next_post_id(), takes a shared advisory lock for the rest of its
transaction before it takes the id.  settled_post_id() reads the last id
handed out, then whether that lock is free (taking it exclusively and giving
it back at once): if it is, every id up to the one read belongs to a
transaction that has ended.  SQLite writes one transaction at a time:
nothing changes there.

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
        CREATE OR REPLACE FUNCTION next_post_id() RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
        BEGIN
            PERFORM pg_advisory_xact_lock_shared({WRITING_POSTS});  -- until this transaction ends
            PERFORM pg_current_xact_id();  -- a transaction holding the lock is never one that asks
            RETURN nextval('posts_id_seq');
        END
        $$
        """
    )
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION settled_post_id(OUT settled bigint, OUT handed bigint)
        LANGUAGE plpgsql VOLATILE AS $$
        BEGIN
            -- The last id handed out, first: whoever took one up to it held the lock before.
            SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END INTO handed FROM posts_id_seq;
            -- Free now, then nobody who took one is still in progress.  The lock is taken and given
            -- back in one expression: nothing between them, not even a cancel, can leave it held.
            -- Under REPEATABLE READ a read's snapshot may be older than this, and a transaction that
            -- wrote may hold the lock itself (its own locks never conflict): then nothing is settled.
            IF current_setting('transaction_isolation') = 'read committed'
                AND pg_current_xact_id_if_assigned() IS NULL THEN
                IF (CASE WHEN pg_try_advisory_lock({WRITING_POSTS}) THEN pg_advisory_unlock({WRITING_POSTS})
                         ELSE false END) THEN
                    settled := handed;
                END IF;
            END IF;
        END
        $$
        """
    )
    op.execute("ALTER TABLE posts ALTER COLUMN id SET DEFAULT next_post_id()")
    # Ids handed out one at a time: a session's cache of ids would hand out ids at or below one settled.
    op.execute("ALTER SEQUENCE posts_id_seq CACHE 1")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE posts ALTER COLUMN id SET DEFAULT nextval('posts_id_seq')")
    op.execute("DROP FUNCTION settled_post_id(OUT bigint, OUT bigint)")
    op.execute("DROP FUNCTION next_post_id()")
