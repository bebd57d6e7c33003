"""A study's retention date: after it, `flask apply-retention` erases its personal data.

Revision ID: 0016_retention
Revises: 0015_consent_interests
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_retention"
down_revision = "0015_consent_interests"
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN on both databases: a batch copy of `studies` would, with SQLite's
    # foreign keys on, cascade-delete every row that refers to a study.
    op.add_column("studies", sa.Column("retention_until", sa.Date(), nullable=True))


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        # Native DROP COLUMN (SQLite 3.35+), as in 0007 and 0012: never a batch copy.
        op.execute("ALTER TABLE studies DROP COLUMN retention_until")
    else:
        op.drop_column("studies", "retention_until")
