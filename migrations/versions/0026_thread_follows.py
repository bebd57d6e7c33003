"""Following an item's discussion: a person's explicit choice to follow an item's thread
(without posting in it) or to stop following it (after posting), for the daily digest.

Revision ID: 0026_thread_follows
Revises: 0025_spec_cache
"""

import sqlalchemy as sa
from alembic import op

revision = "0026_thread_follows"
down_revision = "0025_spec_cache"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "discussion_follows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("thread_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("following", sa.Boolean(), nullable=False),
        sa.Column("chosen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["thread_id"],
            ["discussion_threads.id"],
            name=op.f("fk_discussion_follows_thread_id_discussion_threads"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_discussion_follows_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_discussion_follows")),
        sa.UniqueConstraint(
            "thread_id", "user_id", name=op.f("uq_discussion_follows_thread_id_user_id")
        ),
    )
    op.create_index(
        op.f("ix_discussion_follows_user_id"), "discussion_follows", ["user_id"], unique=False
    )


def downgrade():
    op.drop_index(op.f("ix_discussion_follows_user_id"), table_name="discussion_follows")
    op.drop_table("discussion_follows")
