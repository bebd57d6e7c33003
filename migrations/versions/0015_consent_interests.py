"""Consent: versioned participant information, panellists' agreements, declared interests.

Revision ID: 0015_consent_interests
Revises: 0014_indicator_test_data
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_consent_interests"
down_revision = "0014_indicator_test_data"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "participant_information",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "study_id",
            sa.Integer(),
            sa.ForeignKey("studies.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("statements", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "created_by_id",
            sa.Integer(),
            sa.ForeignKey("users.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.UniqueConstraint("study_id", "version"),
    )
    op.create_table(
        "consents",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "panellist_id",
            sa.Integer(),
            sa.ForeignKey("panellists.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("agreed_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("panellist_id", "version"),
    )
    op.create_index("ix_consents_panellist_id", "consents", ["panellist_id"])
    # Plain ADD COLUMN on both databases: no table is copied.
    op.add_column("panellists", sa.Column("interests_declared_at", sa.DateTime(timezone=True)))
    op.add_column(
        "panellists",
        sa.Column("interests_none", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "panellists", sa.Column("interests", sa.Text(), nullable=False, server_default="")
    )


def downgrade():
    for column in ("interests", "interests_none", "interests_declared_at"):
        if op.get_bind().dialect.name == "sqlite":
            # Native DROP COLUMN (SQLite 3.35+), as in 0007: a batch copy would drop and
            # recreate the table, and with foreign keys on delete every rating of the panel.
            op.execute(f"ALTER TABLE panellists DROP COLUMN {column}")
        else:
            op.drop_column("panellists", column)
    op.drop_index("ix_consents_panellist_id", table_name="consents")
    op.drop_table("consents")
    op.drop_table("participant_information")
