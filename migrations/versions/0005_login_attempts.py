"""login attempts, for rate-limiting sign-in

Revision ID: 0005_login_attempts
Revises: 0004_delphi_cycle
Create Date: 2026-11-23 10:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005_login_attempts'
down_revision = '0004_delphi_cycle'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'login_attempts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=300), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_login_attempts')),
    )
    op.create_index(
        'ix_login_attempts_key_created_at', 'login_attempts', ['key', 'created_at'], unique=False
    )


def downgrade():
    op.drop_index('ix_login_attempts_key_created_at', table_name='login_attempts')
    op.drop_table('login_attempts')
