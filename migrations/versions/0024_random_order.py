"""Random item order: each panellist sees the items of a theme in their own fixed random
order (studies.random_item_order, off for existing studies).

Revision ID: 0024_random_order
Revises: 0023_withdrawal_background
"""

import sqlalchemy as sa
from alembic import op

revision = "0024_random_order"
down_revision = "0023_withdrawal_background"
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN with a server default, as 0012: no table is copied, and every
    # existing study keeps the order its panellists have seen.
    op.add_column(
        "studies",
        sa.Column("random_item_order", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        # Native DROP COLUMN (SQLite 3.35+), as 0012: never a batch copy of the table.
        op.execute("ALTER TABLE studies DROP COLUMN random_item_order")
    else:
        op.drop_column("studies", "random_item_order")
