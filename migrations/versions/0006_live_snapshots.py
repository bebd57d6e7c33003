"""Real-time Delphi: snapshots a facilitator freezes while the study runs.

Revision ID: 0006_live_snapshots
Revises: 0005_login_attempts
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_live_snapshots"
down_revision = "0005_login_attempts"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "live_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("taken_by_id", sa.Integer(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["round_id"], ["rounds.id"],
                                name="fk_live_snapshots_round_id_rounds", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["taken_by_id"], ["users.id"],
                                name="fk_live_snapshots_taken_by_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_live_snapshots"),
    )


def downgrade():
    op.drop_table("live_snapshots")
