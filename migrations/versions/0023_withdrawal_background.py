"""Withdrawal and panel characteristics: when a panellist withdrew, whether their answers
stay, and who recorded it; the study's background questions and the panel's answers.

Revision ID: 0023_withdrawal_background
Revises: 0022_notifications
"""

import sqlalchemy as sa
from alembic import op

revision = "0023_withdrawal_background"
down_revision = "0022_notifications"
branch_labels = None
depends_on = None

PANELLIST_COLUMNS = ("withdrawn_at", "answers_removed", "withdrawal_recorded_by_facilitator")


def upgrade():
    # Plain ADD COLUMNs on both databases, as 0015: no table is copied. No foreign key on
    # panellists, so SQLite can drop the columns again natively.
    op.add_column("panellists", sa.Column("withdrawn_at", sa.DateTime(timezone=True)))
    op.add_column(
        "panellists",
        sa.Column("answers_removed", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "panellists",
        sa.Column(
            "withdrawal_recorded_by_facilitator",
            sa.Boolean(),
            nullable=False,
            server_default=sa.false(),
        ),
    )
    op.create_table(
        "background_questions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "study_id",
            sa.Integer(),
            sa.ForeignKey("studies.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("preset", sa.String(40), nullable=False, server_default=""),
        sa.Column("text", sa.String(300), nullable=False),
        sa.Column("options", sa.Text(), nullable=False),
        sa.Column("patients_only", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_background_questions_study_id", "background_questions", ["study_id"])
    op.create_table(
        "background_answers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "panellist_id",
            sa.Integer(),
            sa.ForeignKey("panellists.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "question_id",
            sa.Integer(),
            sa.ForeignKey("background_questions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("answer", sa.String(300), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("panellist_id", "question_id"),
    )
    op.create_index("ix_background_answers_panellist_id", "background_answers", ["panellist_id"])


def downgrade():
    op.drop_index("ix_background_answers_panellist_id", table_name="background_answers")
    op.drop_table("background_answers")
    op.drop_index("ix_background_questions_study_id", table_name="background_questions")
    op.drop_table("background_questions")
    for column in reversed(PANELLIST_COLUMNS):
        if op.get_bind().dialect.name == "sqlite":
            # Native DROP COLUMN (SQLite 3.35+), as 0015: a batch copy would recreate the
            # table, and with foreign keys on delete every rating of the panel.
            op.execute(f"ALTER TABLE panellists DROP COLUMN {column}")
        else:
            op.drop_column("panellists", column)
