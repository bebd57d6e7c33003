"""Ratings indexed by round: every figure of a round, its results page and its progress read
the ratings of one round, which the unique (panellist, item version, round) index cannot find
without reading every rating of the database.

A closed round's stability is stored in its snapshot's payload (JSON, no schema change);
rounds closed before have it computed on first reading and kept
(`app.services.cycle.stability_between_last_rounds`).

Revision ID: 0013_round_figures
Revises: 0008_invitation_link_seeds
"""

from alembic import op

revision = "0013_round_figures"
down_revision = "0008_invitation_link_seeds"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_ratings_round_id_panellist_id", "ratings", ["round_id", "panellist_id"])


def downgrade():
    op.drop_index("ix_ratings_round_id_panellist_id", table_name="ratings")
