"""Co-facilitators added by email, and two-step sign-in (TOTP) with recovery codes.

Revision ID: 0021_cofacilitators_totp
Revises: 0020_ideas_round
"""

import sqlalchemy as sa
from alembic import op

revision = "0021_cofacilitators_totp"
down_revision = "0020_ideas_round"
branch_labels = None
depends_on = None

# Plain ADD COLUMN on both databases: a batch copy of `users` or `studies` would, with
# SQLite's foreign keys on, cascade-delete every row that refers to them.
_COLUMNS = {
    "users": [
        sa.Column("totp_secret", sa.String(200), nullable=True),
        sa.Column("totp_enabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("totp_last_step", sa.Integer(), nullable=True),
    ],
    "studies": [
        sa.Column("require_two_step", sa.Boolean(), nullable=False, server_default=sa.false()),
    ],
    "study_facilitators": [
        sa.Column("invited_name", sa.String(200), nullable=True),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=True),
    ],
}


def upgrade():
    for table, columns in _COLUMNS.items():
        for column in columns:
            op.add_column(table, column)
    op.create_table(
        "recovery_codes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_recovery_codes_user_id", "recovery_codes", ["user_id"])


def downgrade():
    op.drop_index("ix_recovery_codes_user_id", table_name="recovery_codes")
    op.drop_table("recovery_codes")
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table, columns in _COLUMNS.items():
        for column in columns:
            if sqlite:
                # Native DROP COLUMN (SQLite 3.35+), as in 0007 and 0016: never a batch copy.
                op.execute(f"ALTER TABLE {table} DROP COLUMN {column.name}")
            else:
                op.drop_column(table, column.name)
