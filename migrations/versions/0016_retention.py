"""A study's retention date: after it, `flask apply-retention` erases its personal data.

Revision ID: 0016_retention
Revises: 0014_indicator_test_data
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_retention"
down_revision = "0014_indicator_test_data"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("studies") as batch:
        batch.add_column(sa.Column("retention_until", sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table("studies") as batch:
        batch.drop_column("retention_until")
