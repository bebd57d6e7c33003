"""Indicator test data: trust-level numerators and denominators for a funnel plot.

Revision ID: 0014_indicator_test_data
Revises: 0013_round_figures
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_indicator_test_data"
down_revision = "0013_round_figures"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "indicator_test_data",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "item_id",
            sa.Integer(),
            sa.ForeignKey("items.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        ),
        sa.Column("period", sa.String(200), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("rows", sa.JSON(), nullable=False),
        sa.Column("lower_is_better", sa.Boolean(), nullable=False),
        sa.Column("method", sa.String(20), nullable=False),
        sa.Column("per", sa.Integer(), nullable=False),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.Column("shown_to_panel", sa.Boolean(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
    )


def downgrade():
    op.drop_table("indicator_test_data")
