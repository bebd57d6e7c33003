"""Server-side sign-in sessions, and the name a facilitator typed when inviting.

Revision ID: 0007_sessions_invited_names
Revises: 0006_live_snapshots
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_sessions_invited_names"
down_revision = "0006_live_snapshots"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "user_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name="fk_user_sessions_user_id_users", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_user_sessions"),
        sa.UniqueConstraint("token_hash", name="uq_user_sessions_token_hash"),
    )
    op.create_index("ix_user_sessions_user_id", "user_sessions", ["user_id"])
    with op.batch_alter_table("panellists") as batch_op:
        batch_op.add_column(sa.Column("invited_name", sa.String(200), nullable=True))


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        # Native DROP COLUMN (SQLite 3.35+): a batch copy would drop and recreate the table,
        # and with foreign keys on that deletes every rating and message of the panel.
        op.execute("ALTER TABLE panellists DROP COLUMN invited_name")
    else:
        op.drop_column("panellists", "invited_name")
    op.drop_index("ix_user_sessions_user_id", table_name="user_sessions")
    op.drop_table("user_sessions")
