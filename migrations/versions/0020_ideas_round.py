"""The open ideas round before rating: the study's ideas-round status, the facilitators' open
questions, the link from an idea (a proposal) to its question, and comments on ideas.

Revision ID: 0020_ideas_round
Revises: 0019_reason_reviews
"""

import sqlalchemy as sa
from alembic import op

revision = "0020_ideas_round"
down_revision = "0019_reason_reviews"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN with a server default, as 0012: `studies` is never copied.
    op.add_column(
        "studies",
        sa.Column("ideas_status", sa.String(20), nullable=False, server_default="none"),
    )
    op.create_table(
        "open_questions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "study_id",
            sa.Integer(),
            sa.ForeignKey("studies.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.add_column(
        "proposals",
        sa.Column("ideas_round", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    if op.get_bind().dialect.name == "sqlite":
        # SQLite adds a column with its reference inline; it cannot add a constraint later.
        op.execute(
            "ALTER TABLE proposals ADD COLUMN question_id INTEGER "
            "REFERENCES open_questions (id) ON DELETE SET NULL"
        )
    else:
        op.add_column("proposals", sa.Column("question_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            "proposals_question_id_fkey",
            "proposals",
            "open_questions",
            ["question_id"],
            ["id"],
            ondelete="SET NULL",
        )
    op.create_table(
        "idea_comments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "proposal_id",
            sa.Integer(),
            sa.ForeignKey("proposals.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "panellist_id",
            sa.Integer(),
            sa.ForeignKey("panellists.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_idea_comments_proposal_id", "idea_comments", ["proposal_id"])


def downgrade():
    op.drop_index("ix_idea_comments_proposal_id", table_name="idea_comments")
    op.drop_table("idea_comments")
    if op.get_bind().dialect.name == "sqlite":
        # SQLite will not drop a column that holds a reference: copy `proposals` once (no
        # other table refers to it) and drop both ideas columns in the copy.
        with op.batch_alter_table("proposals", recreate="always") as batch:
            batch.drop_column("question_id")
            batch.drop_column("ideas_round")
        op.drop_table("open_questions")
        op.execute("ALTER TABLE studies DROP COLUMN ideas_status")
    else:
        op.drop_constraint("proposals_question_id_fkey", "proposals", type_="foreignkey")
        op.drop_column("proposals", "question_id")
        op.drop_column("proposals", "ideas_round")
        op.drop_table("open_questions")
        op.drop_column("studies", "ideas_status")
