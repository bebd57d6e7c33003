"""The full Delphi cycle: study mode, proposals, invite rule, change reasons, reminders, API tokens.

Revision ID: 0004_delphi_cycle
Revises: 0003_item_export_fields
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_delphi_cycle"
down_revision = "0003_item_export_fields"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("studies") as batch:
        batch.add_column(sa.Column("mode", sa.String(20), nullable=False, server_default="rounds"))
        batch.add_column(
            sa.Column("proposals_open", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("stop_reason", sa.Text(), nullable=False, server_default=""))
    with op.batch_alter_table("rounds") as batch:
        batch.add_column(
            sa.Column("invite_rule", sa.String(30), nullable=False, server_default="everyone")
        )
    with op.batch_alter_table("ratings") as batch:
        batch.add_column(sa.Column("change_reason", sa.Text(), nullable=False, server_default=""))
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("label", sa.String(100), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["study_id"], ["studies.id"],
                                name="fk_api_tokens_study_id_studies", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"],
                                name="fk_api_tokens_created_by_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_api_tokens_token_hash"),
    )
    op.create_table(
        "reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("panellist_id", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["round_id"], ["rounds.id"],
                                name="fk_reminders_round_id_rounds", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["panellist_id"], ["panellists.id"],
                                name="fk_reminders_panellist_id_panellists", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["sent_by_id"], ["users.id"],
                                name="fk_reminders_sent_by_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_reminders"),
    )
    op.create_table(
        "proposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("panellist_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("theme", sa.String(200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("response", sa.Text(), nullable=False),
        sa.Column("result_item_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["study_id"], ["studies.id"],
                                name="fk_proposals_study_id_studies", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["panellist_id"], ["panellists.id"],
                                name="fk_proposals_panellist_id_panellists", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"],
                                name="fk_proposals_item_id_items", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["result_item_id"], ["items.id"],
                                name="fk_proposals_result_item_id_items"),
        sa.ForeignKeyConstraint(["decided_by_id"], ["users.id"],
                                name="fk_proposals_decided_by_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_proposals"),
    )


def downgrade():
    op.drop_table("proposals")
    op.drop_table("reminders")
    op.drop_table("api_tokens")
    with op.batch_alter_table("ratings") as batch:
        batch.drop_column("change_reason")
    with op.batch_alter_table("rounds") as batch:
        batch.drop_column("invite_rule")
    with op.batch_alter_table("studies") as batch:
        batch.drop_column("stop_reason")
        batch.drop_column("proposals_open")
        batch.drop_column("mode")
