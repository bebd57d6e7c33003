"""Several criteria per item: a `criteria` table, and each rating judges one criterion.

Every existing study gets one criterion, "Importance", applying to every kind of item, and
every rating points at it, so results are unchanged. The unique rating becomes (panellist,
item version, round, criterion).

On SQLite the ratings table is copied (a unique constraint cannot be dropped in place).
Dropping the old table with foreign keys on sets `discussion_messages.rating_id` to NULL
(ON DELETE SET NULL), so those links are read first and written back after the copy.

Downgrade works while every study has a single criterion; otherwise it stops with a
message, since the extra criteria's ratings have nowhere to go.

Revision ID: 0018_criteria
Revises: 0017_reporting_settings
"""

import sqlalchemy as sa
from alembic import op

revision = "0018_criteria"
down_revision = "0017_reporting_settings"
branch_labels = None
depends_on = None

OLD_UNIQUE = "uq_ratings_panellist_id_item_version_id_round_id"
NEW_UNIQUE = "uq_ratings_panellist_id_item_version_id_round_id_criterion_id"
FK = "fk_ratings_criterion_id_criteria"


def _rating_links(bind):
    return bind.execute(
        sa.text("SELECT id, rating_id FROM discussion_messages WHERE rating_id IS NOT NULL")
    ).all()


def _restore_links(bind, links):
    if links:
        bind.execute(
            sa.text("UPDATE discussion_messages SET rating_id = :r WHERE id = :i"),
            [{"r": rating_id, "i": message_id} for message_id, rating_id in links],
        )


def upgrade():
    op.create_table(
        "criteria",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("applies_to", sa.String(100), nullable=False),
        sa.ForeignKeyConstraint(
            ["study_id"], ["studies.id"], name="fk_criteria_study_id_studies", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_criteria"),
        sa.UniqueConstraint("study_id", "name", name="uq_criteria_study_id_name"),
    )
    bind = op.get_bind()
    bind.execute(
        sa.text(
            "INSERT INTO criteria (study_id, name, question, position, applies_to) "
            "SELECT id, 'Importance', 'How important is this item?', 0, 'prompt,indicator' "
            "FROM studies"
        )
    )
    op.add_column("ratings", sa.Column("criterion_id", sa.Integer(), nullable=True))
    bind.execute(
        sa.text(
            "UPDATE ratings SET criterion_id = (SELECT c.id FROM criteria c "
            "JOIN rounds r ON r.study_id = c.study_id WHERE r.id = ratings.round_id)"
        )
    )
    sqlite = bind.dialect.name == "sqlite"
    links = _rating_links(bind) if sqlite else []
    with op.batch_alter_table("ratings") as batch:
        batch.alter_column("criterion_id", existing_type=sa.Integer(), nullable=False)
        batch.create_foreign_key(FK, "criteria", ["criterion_id"], ["id"], ondelete="CASCADE")
        batch.drop_constraint(OLD_UNIQUE, type_="unique")
        batch.create_unique_constraint(
            NEW_UNIQUE, ["panellist_id", "item_version_id", "round_id", "criterion_id"]
        )
    _restore_links(bind, links)


def downgrade():
    bind = op.get_bind()
    several = bind.execute(
        sa.text(
            "SELECT s.slug FROM studies s JOIN criteria c ON c.study_id = s.id "
            "GROUP BY s.slug HAVING count(c.id) > 1"
        )
    ).scalars().all()
    if several:
        raise RuntimeError(
            "Cannot go below migration 0018_criteria: these studies rate items on more than "
            f"one criterion, and a rating per criterion has nowhere to go: {', '.join(several)}."
            " Remove their extra criteria (and those ratings) first."
        )
    sqlite = bind.dialect.name == "sqlite"
    links = _rating_links(bind) if sqlite else []
    with op.batch_alter_table("ratings") as batch:
        batch.drop_constraint(NEW_UNIQUE, type_="unique")
        batch.create_unique_constraint(OLD_UNIQUE, ["panellist_id", "item_version_id", "round_id"])
        batch.drop_constraint(FK, type_="foreignkey")
        batch.drop_column("criterion_id")
    _restore_links(bind, links)
    op.drop_table("criteria")
