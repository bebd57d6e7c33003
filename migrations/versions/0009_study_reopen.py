"""A study may share its specification with the panel once it is completed.

Revision ID: 0009_study_reopen
Revises: 0008_invitation_link_seeds
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_study_reopen"
down_revision = "0008_invitation_link_seeds"
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN on both databases: no table is copied.
    op.add_column(
        "studies",
        sa.Column("share_specification", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        # Native DROP COLUMN (SQLite 3.35+), as in 0007 and 0008: never a batch copy.
        op.execute("ALTER TABLE studies DROP COLUMN share_specification")
    else:
        op.drop_column("studies", "share_specification")
