"""Email notifications: each person's choice of emails and the time of their last digest.

Revision ID: 0022_notifications
Revises: 0021_cofacilitators_totp
"""

import sqlalchemy as sa
from alembic import op

revision = "0022_notifications"
down_revision = "0021_cofacilitators_totp"
branch_labels = None
depends_on = None


def upgrade():
    # A new table only: existing people have no row, which means every email on.
    op.create_table(
        "notification_settings",
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("round_opened", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("reminder", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("round_closed", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("discussion", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("last_digest_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade():
    op.drop_table("notification_settings")
