"""Search indexing moves to one worker: new posts' matching gets an outbox of its own, the worker a heartbeat

Revision ID: b2f6d9a4c8e1
Revises: e5a8c3f1d7b4
Create Date: 2026-12-08 10:00:00

The search worker (`flask search worker`) is now the index's only writer,
while saved searches are still matched in the serving processes, whose
clients hear the matches.  The two jobs had shared search_outbox (its
`new_post` flag); now new posts also get a percolation_outbox row, and
search_outbox rows say when they were queued, so a missing worker shows.
New posts still waiting are carried over to the new table.
"""

import sqlalchemy as sa
from alembic import op

import models.base

revision = "b2f6d9a4c8e1"
down_revision = "e5a8c3f1d7b4"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    op.create_table(
        "percolation_outbox",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("post_id", BIG_ID, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_percolation_outbox")),
    )
    op.execute(
        "INSERT INTO percolation_outbox (post_id) SELECT post_id FROM search_outbox WHERE new_post ORDER BY id"
    )
    op.create_table(
        "search_worker",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seen_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("problem", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_worker")),
    )
    # Batch mode recreates the table on SQLite: keep its AUTOINCREMENT (ids are never reused).
    with op.batch_alter_table("search_outbox", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_column("new_post")
        batch.add_column(
            sa.Column(
                "queued_at",
                models.base.UTCDateTime(timezone=True),
                server_default=sa.func.now(),
                nullable=False,
            )
        )


def downgrade():
    with op.batch_alter_table("search_outbox", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_column("queued_at")
        batch.add_column(sa.Column("new_post", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.execute(
        "INSERT INTO search_outbox (post_id, new_post) SELECT post_id, true FROM percolation_outbox ORDER BY id"
    )
    op.drop_table("search_worker")
    op.drop_table("percolation_outbox")
