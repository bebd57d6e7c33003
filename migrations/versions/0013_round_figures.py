"""A closed round's figures kept for the pages that read them, and ratings indexed by round.

- `round_snapshots.summary`: per item only status, median and % top band, with alpha,
  participation and stability: what the dashboard and the results across rounds show, without
  decoding each round's whole payload (700 KB for 200 items). Rounds closed before have it
  made from their payload on first reading (`app.services.overview.round_figures`).
- A closed round's stability is stored in its payload too (JSON, no schema change); rounds
  closed before have it computed on first reading and kept.
- Ratings indexed by (round, panellist): a round's figures, results page and progress read
  the ratings of one round, which the unique (panellist, item version, round) index cannot
  find without reading every rating in the database.

Revision ID: 0013_round_figures
Revises: 0012_guide_settings
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_round_figures"
down_revision = "0012_guide_settings"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("round_snapshots", sa.Column("summary", sa.JSON(), nullable=True))
    op.create_index("ix_ratings_round_id_panellist_id", "ratings", ["round_id", "panellist_id"])


def downgrade():
    op.drop_index("ix_ratings_round_id_panellist_id", table_name="ratings")
    if op.get_bind().dialect.name == "sqlite":
        # Native DROP COLUMN (SQLite 3.35+), as in 0008: never a batch copy of the table.
        op.execute("ALTER TABLE round_snapshots DROP COLUMN summary")
    else:
        op.drop_column("round_snapshots", "summary")
