"""Study settings for reporting (the ACCORD checklist): protocol or registration, funding,
steering group, sources of the candidate items, pilot of the questionnaire and deviations
from the protocol.

Revision ID: 0017_reporting_settings
Revises: 0016_retention
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_reporting_settings"
down_revision = "0016_retention"
branch_labels = None
depends_on = None

COLUMNS = [
    ("protocol_link", sa.String(500)),
    ("funding", sa.Text()),
    ("steering_group", sa.Text()),
    ("item_sources", sa.Text()),
    ("questionnaire_pilot", sa.Text()),
    ("protocol_deviations", sa.Text()),
]


def upgrade():
    # Plain ADD COLUMNs with a server default, as 0012: no table is copied.
    for name, type_ in COLUMNS:
        op.add_column("studies", sa.Column(name, type_, nullable=False, server_default=""))


def downgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    for name, _ in reversed(COLUMNS):
        if sqlite:
            # Native DROP COLUMN (SQLite 3.35+), as 0012: never a batch copy of the table.
            op.execute(f"ALTER TABLE studies DROP COLUMN {name}")
        else:
            op.drop_column("studies", name)
