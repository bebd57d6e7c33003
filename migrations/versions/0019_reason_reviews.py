"""Facilitators' review of the reasons panellists gave with their ratings: a reason hidden
from the rest of the panel, with why (its author reads it). A table of its own, one row per
hidden reason, so the ratings table is not touched.

Revision ID: 0019_reason_reviews
Revises: 0018_criteria
"""

import sqlalchemy as sa
from alembic import op

revision = "0019_reason_reviews"
down_revision = "0018_criteria"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "reason_reviews",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "rating_id",
            sa.Integer(),
            sa.ForeignKey("ratings.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        ),
        sa.Column("reason", sa.Text(), nullable=False, server_default=""),
        sa.Column(
            "hidden_by_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="SET NULL")
        ),
        sa.Column("hidden_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade():
    op.drop_table("reason_reviews")
