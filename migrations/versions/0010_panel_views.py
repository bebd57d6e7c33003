"""Item versions record the kind and theme they were rated under, so that a revision may
change them and panellists see the change.

Revision ID: 0010_panel_views
Revises: 0009_study_reopen
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_panel_views"
down_revision = "0009_study_reopen"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMNs on both databases: no table is copied.
    op.add_column("item_versions", sa.Column("kind", sa.String(20), nullable=True))
    op.add_column("item_versions", sa.Column("theme_name", sa.Text(), nullable=True))
    # Every existing version was rated under its item's present kind and theme.
    op.execute(
        "UPDATE item_versions SET "
        "kind = (SELECT items.kind FROM items WHERE items.id = item_versions.item_id), "
        "theme_name = (SELECT themes.name FROM items JOIN themes ON themes.id = items.theme_id "
        "WHERE items.id = item_versions.item_id)"
    )


def downgrade():
    for column in ("theme_name", "kind"):
        if op.get_bind().dialect.name == "sqlite":
            # Native DROP COLUMN (SQLite 3.35+), as in 0007: never a batch copy of the table.
            op.execute(f"ALTER TABLE item_versions DROP COLUMN {column}")
        else:
            op.drop_column("item_versions", column)
