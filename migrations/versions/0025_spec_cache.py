"""A study's content stamp: a random token replaced by every change to what its
specification shows, so that a built specification can be kept until it is stale
(`app.services.spec_cache`); and a partial index of the ratings that give a reason for
changing band, which the round results list (the unfiltered index read a whole round).

Revision ID: 0025_spec_cache
Revises: 0024_random_order
"""

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0025_spec_cache"
down_revision = "0024_random_order"
branch_labels = None
depends_on = None


CHANGED = sa.text("change_reason <> ''")


def upgrade():
    op.create_index(
        "ix_ratings_changed_round_id",
        "ratings",
        ["round_id"],
        postgresql_where=CHANGED,
        sqlite_where=CHANGED,
    )
    # A plain ADD COLUMN on both databases: a batch copy of `studies` would, with SQLite's
    # foreign keys on, cascade-delete every row that refers to a study.
    op.add_column("studies", sa.Column("content_stamp", sa.String(32), nullable=True))
    bind = op.get_bind()
    studies = sa.table("studies", sa.column("id", sa.Integer), sa.column("content_stamp"))
    for (study_id,) in bind.execute(sa.select(studies.c.id)).all():
        bind.execute(
            studies.update().where(studies.c.id == study_id).values(content_stamp=uuid.uuid4().hex)
        )


def downgrade():
    op.drop_index("ix_ratings_changed_round_id", table_name="ratings")
    if op.get_bind().dialect.name == "sqlite":
        # Native DROP COLUMN (SQLite 3.35+), as in 0007 and 0012: never a batch copy.
        op.execute("ALTER TABLE studies DROP COLUMN content_stamp")
    else:
        op.drop_column("studies", "content_stamp")
