"""Study settings for the inspectors' guide: who owns the study, the framework it serves,
the guide's context, what to report and where, and its sources.

Revision ID: 0012_guide_settings
Revises: 0010_panel_views
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_guide_settings"
down_revision = "0010_panel_views"
branch_labels = None
depends_on = None

COLUMNS = [
    ("owner_organisation", sa.String(200)),
    ("guide_context", sa.Text()),
    ("framework", sa.Text()),
    ("framework_url", sa.String(500)),
    ("guide_reporting", sa.Text()),
    ("guide_sources", sa.Text()),
]


def upgrade():
    # Plain ADD COLUMNs with a server default, on both databases: no table is copied.
    for name, type_ in COLUMNS:
        op.add_column("studies", sa.Column(name, type_, nullable=False, server_default=""))


def downgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    for name, _ in reversed(COLUMNS):
        if sqlite:
            # Native DROP COLUMN (SQLite 3.35+), as in 0007: never a batch copy of the table.
            op.execute(f"ALTER TABLE studies DROP COLUMN {name}")
        else:
            op.drop_column("studies", name)
