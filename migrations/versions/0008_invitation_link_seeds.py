"""Invitation links a facilitator passes on keep a seed, so the panel page can list them.

Revision ID: 0008_invitation_link_seeds
Revises: 0007_sessions_invited_names
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_invitation_link_seeds"
down_revision = "0007_sessions_invited_names"
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN on both databases: no table is copied.
    op.add_column("invitations", sa.Column("link_seed", sa.String(64), nullable=True))


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        # Native DROP COLUMN (SQLite 3.35+), as in 0007: never a batch copy of the table.
        op.execute("ALTER TABLE invitations DROP COLUMN link_seed")
    else:
        op.drop_column("invitations", "link_seed")
