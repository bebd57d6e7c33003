"""item versions: notes for inspectors, reporting frequency, threshold

Revision ID: 0003_item_export_fields
Revises: 0002_discussion
Create Date: 2026-11-23 10:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003_item_export_fields'
down_revision = '0002_discussion'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('item_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notes', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(
            sa.Column('reporting_frequency', sa.Text(), nullable=False, server_default='')
        )
        batch_op.add_column(sa.Column('threshold', sa.Text(), nullable=False, server_default=''))


def downgrade():
    with op.batch_alter_table('item_versions', schema=None) as batch_op:
        batch_op.drop_column('threshold')
        batch_op.drop_column('reporting_frequency')
        batch_op.drop_column('notes')
