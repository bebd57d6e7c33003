"""Database models. Logic-free beyond conversion to the domain's plain values."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import uuid4

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    select,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from delphi import (
    Decision,
    ItemKind,
    PanelRole,
    RoundStatus,
    Scale,
    StudyMode,
    StudyStatus,
    disclose_round_results,
)
from delphi.criteria import (
    DEFAULT_NAME,
    DEFAULT_QUESTION,
    CriterionSpec,
    format_kinds,
    parse_kinds,
)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(db.TypeDecorator):  # type: ignore[name-defined]
    """Stores aware UTC datetimes; SQLite drops the zone, so it is put back on read."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class User(UserMixin, db.Model):  # type: ignore[name-defined]
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    can_create_studies: Mapped[bool] = mapped_column(Boolean, default=False)
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Two-step sign-in (app/services/two_step.py): the TOTP secret, a Fernet token (140
    # characters) under a key derived from SECRET_KEY; set while being set up, in force once
    # `totp_enabled_at` is set.
    totp_secret: Mapped[str | None] = mapped_column(String(200))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The last time step whose code was accepted: a code is never accepted twice.
    totp_last_step: Mapped[int | None] = mapped_column(Integer)

    @property
    def has_two_step(self) -> bool:
        return self.totp_enabled_at is not None

    def get_id(self) -> str:
        # The version lets "sign out everywhere" and password changes end old sessions. A
        # signed-in session also carries its own key (see app/services/sessions.py), so that
        # signing out ends that session on the server, not only in the browser.
        return f"{self.id}:{self.session_version}"


class UserSession(db.Model):  # type: ignore[name-defined]
    """One signed-in browser session; only the SHA-256 of its key is stored."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Study(db.Model):  # type: ignore[name-defined]
    __tablename__ = "studies"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(Text, default="")
    scale_min: Mapped[int] = mapped_column(Integer, default=1)
    scale_max: Mapped[int] = mapped_column(Integer, default=9)
    rule: Mapped[str] = mapped_column(String(20), default="percentage")
    pct_in: Mapped[float] = mapped_column(Float, default=70.0)
    pct_out_max: Mapped[float] = mapped_column(Float, default=15.0)
    max_iqr: Mapped[float] = mapped_column(Float, default=2.0)
    require_all_groups: Mapped[bool] = mapped_column(Boolean, default=False)
    max_rounds: Mapped[int] = mapped_column(Integer, default=3)
    status: Mapped[str] = mapped_column(String(20), default=StudyStatus.SETUP.value)
    # A `StudyMode`: classic rounds, or real-time (ratings revisable until the study closes).
    mode: Mapped[str] = mapped_column(
        String(20), default=StudyMode.ROUNDS.value, server_default=StudyMode.ROUNDS.value
    )
    # Round 1 may be "open": panellists propose new items and rewording.
    proposals_open: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # The open ideas round before rating (`delphi.ideas`): none, open or closed.
    ideas_status: Mapped[str] = mapped_column(String(20), default="none", server_default="none")
    # Once completed, panellists may read the specification (without names) in the app.
    share_specification: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # Each panellist sees the items of a theme in their own fixed random order
    # (delphi.ordering), against order effects; fixed once round 1 has opened.
    random_item_order: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    stop_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    # The inspectors' guide (app/export/guide.py): who publishes it and what frames it.
    owner_organisation: Mapped[str] = mapped_column(String(200), default="", server_default="")
    guide_context: Mapped[str] = mapped_column(Text, default="", server_default="")
    framework: Mapped[str] = mapped_column(Text, default="", server_default="")
    framework_url: Mapped[str] = mapped_column(String(500), default="", server_default="")
    guide_reporting: Mapped[str] = mapped_column(Text, default="", server_default="")
    guide_sources: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Reporting (the ACCORD checklist, app/services/reporting.py): what the study holds
    # outside the app, stated in the specification's methods.
    protocol_link: Mapped[str] = mapped_column(String(500), default="", server_default="")
    funding: Mapped[str] = mapped_column(Text, default="", server_default="")
    steering_group: Mapped[str] = mapped_column(Text, default="", server_default="")
    item_sources: Mapped[str] = mapped_column(Text, default="", server_default="")
    questionnaire_pilot: Mapped[str] = mapped_column(Text, default="", server_default="")
    protocol_deviations: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # After this day `flask apply-retention` erases the panel's names and emails
    # (app/services/privacy.py); None: kept until someone sets a date.
    retention_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    # Replaced, in the same transaction, by every change to what the specification shows
    # (app/services/spec_cache.py), so a specification built for one stamp is never stale.
    content_stamp: Mapped[str | None] = mapped_column(
        String(32), nullable=True, default=lambda: uuid4().hex
    )
    # Facilitators must use two-step sign-in to open the study's facilitator pages.
    require_two_step: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")

    groups: Mapped[list[StakeholderGroup]] = relationship(
        back_populates="study", order_by="StakeholderGroup.position"
    )
    themes: Mapped[list[Theme]] = relationship(back_populates="study", order_by="Theme.position")
    items: Mapped[list[Item]] = relationship(back_populates="study", order_by="Item.position")
    rounds: Mapped[list[Round]] = relationship(back_populates="study", order_by="Round.number")
    panellists: Mapped[list[Panellist]] = relationship(back_populates="study")
    facilitators: Mapped[list[StudyFacilitator]] = relationship(back_populates="study")
    criteria: Mapped[list[Criterion]] = relationship(
        back_populates="study", order_by="(Criterion.position, Criterion.id)"
    )

    @property
    def scale(self) -> Scale:
        return Scale(self.scale_min, self.scale_max)

    @property
    def study_status(self) -> StudyStatus:
        return StudyStatus(self.status)


class StudyFacilitator(db.Model):  # type: ignore[name-defined]
    __tablename__ = "study_facilitators"
    __table_args__ = (UniqueConstraint("study_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # The name typed by the facilitator who added them: shown until the person signs in, so
    # an address never reveals the name its account holds (as for panellists).
    invited_name: Mapped[str | None] = mapped_column(String(200))
    added_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    study: Mapped[Study] = relationship(back_populates="facilitators")
    user: Mapped[User] = relationship()

    @property
    def name(self) -> str:
        """The name co-facilitators see: the typed name until the person has signed in
        since being added."""
        signed_in = self.user.last_login_at
        if self.invited_name and self.added_at and (signed_in is None or signed_in < self.added_at):
            return self.invited_name
        return self.user.name


class StakeholderGroup(db.Model):  # type: ignore[name-defined]
    __tablename__ = "stakeholder_groups"
    __table_args__ = (UniqueConstraint("study_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer, default=0)

    study: Mapped[Study] = relationship(back_populates="groups")


class Panellist(db.Model):  # type: ignore[name-defined]
    __tablename__ = "panellists"
    __table_args__ = (
        UniqueConstraint("study_id", "user_id"),
        UniqueConstraint("study_id", "pseudonym"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(ForeignKey("stakeholder_groups.id"))
    role: Mapped[str] = mapped_column(String(20), default=PanelRole.PARTNER.value)
    pseudonym: Mapped[str] = mapped_column(String(120))
    invited_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    joined_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The name the facilitator typed when inviting. Until the person joins, facilitators see
    # this and not the account's stored name, so an address never reveals who holds it.
    invited_name: Mapped[str | None] = mapped_column(String(200))
    # Declared interests: None until declared; then "none" or the text (`delphi.consent`).
    interests_declared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    interests_none: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    interests: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Withdrawal (`delphi.withdrawal`): when; whether the answers were removed (else they
    # stay under the pseudonym); whether a facilitator recorded it for them.
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answers_removed: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    withdrawal_recorded_by_facilitator: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default="0"
    )

    study: Mapped[Study] = relationship(back_populates="panellists")
    user: Mapped[User] = relationship()
    group: Mapped[StakeholderGroup] = relationship()

    @property
    def panel_role(self) -> PanelRole:
        return PanelRole(self.role)

    @property
    def withdrawn(self) -> bool:
        return self.withdrawn_at is not None

    @property
    def name(self) -> str:
        """The name facilitators see: the invited name until the person has joined."""
        return self.name_shown(self.joined_at, self.invited_name, self.user.name)

    @staticmethod
    def name_shown(joined_at: datetime | None, invited_name: str | None, account: str) -> str:
        if joined_at is None and invited_name:
            return invited_name
        return account


class ParticipantInformation(db.Model):  # type: ignore[name-defined]
    """One version of a study's participant information and consent statements.

    Every edit by a facilitator adds a version; panellists agree to the latest
    (`delphi.consent`)."""

    __tablename__ = "participant_information"
    __table_args__ = (UniqueConstraint("study_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    # One statement a line; each is a box the panellist ticks.
    statements: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    @property
    def statement_list(self) -> list[str]:
        return [line.strip() for line in self.statements.splitlines() if line.strip()]


class Consent(db.Model):  # type: ignore[name-defined]
    """A panellist's agreement to one version of the participant information."""

    __tablename__ = "consents"
    __table_args__ = (UniqueConstraint("panellist_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    panellist_id: Mapped[int] = mapped_column(
        ForeignKey("panellists.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    agreed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BackgroundQuestion(db.Model):  # type: ignore[name-defined]
    """A question about the panellist's background (`delphi.background`), answered on
    joining and summarised per group in the specification, never beside ratings."""

    __tablename__ = "background_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    # The preset it came from (`delphi.background.PRESETS`), "" for a facilitator's own.
    preset: Mapped[str] = mapped_column(String(40), default="", server_default="")
    text: Mapped[str] = mapped_column(String(300))
    # One option a line.
    options: Mapped[str] = mapped_column(Text)
    patients_only: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def option_list(self) -> list[str]:
        return [line.strip() for line in self.options.splitlines() if line.strip()]


class BackgroundAnswer(db.Model):  # type: ignore[name-defined]
    """A panellist's answer to one background question: an option, or "" for "prefer not
    to say"."""

    __tablename__ = "background_answers"
    __table_args__ = (UniqueConstraint("panellist_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    panellist_id: Mapped[int] = mapped_column(
        ForeignKey("panellists.id", ondelete="CASCADE"), index=True
    )
    question_id: Mapped[int] = mapped_column(
        ForeignKey("background_questions.id", ondelete="CASCADE")
    )
    answer: Mapped[str] = mapped_column(String(300))
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Invitation(db.Model):  # type: ignore[name-defined]
    """A single-use link; only the SHA-256 of its token is stored.

    A link the facilitator is to pass on (no email sent) also keeps a random seed, from which
    the token is derived with a key derived from SECRET_KEY (`app.security.link_token`), so
    the panel page can list it until it is used, replaced or expires; the seed is erased then,
    and never kept for an emailed link (docs/security.md).
    """

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    panellist_id: Mapped[int] = mapped_column(ForeignKey("panellists.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    link_seed: Mapped[str | None] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    panellist: Mapped[Panellist] = relationship()


class SignInLink(db.Model):  # type: ignore[name-defined]
    """An emailed single-use sign-in link; only the SHA-256 of its token is stored."""

    __tablename__ = "sign_in_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()


class Theme(db.Model):  # type: ignore[name-defined]
    __tablename__ = "themes"
    __table_args__ = (UniqueConstraint("study_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)

    study: Mapped[Study] = relationship(back_populates="themes")


class Item(db.Model):  # type: ignore[name-defined]
    """A candidate prompt or indicator; its wording lives in `ItemVersion`s."""

    __tablename__ = "items"
    __table_args__ = (UniqueConstraint("study_id", "ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"))
    theme_id: Mapped[int] = mapped_column(ForeignKey("themes.id"))
    kind: Mapped[str] = mapped_column(String(20), default=ItemKind.PROMPT.value)
    ref: Mapped[str] = mapped_column(String(20))
    position: Mapped[int] = mapped_column(Integer, default=0)
    # None while undecided; otherwise a `Decision` value, final once the study completes.
    decision: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    study: Mapped[Study] = relationship(back_populates="items")
    theme: Mapped[Theme] = relationship()
    versions: Mapped[list[ItemVersion]] = relationship(
        back_populates="item", order_by="ItemVersion.number"
    )

    @property
    def current(self) -> ItemVersion:
        return self.versions[-1]

    @property
    def item_kind(self) -> ItemKind:
        return ItemKind(self.kind)


class ItemVersion(db.Model):  # type: ignore[name-defined]
    __tablename__ = "item_versions"
    __table_args__ = (UniqueConstraint("item_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer, default=1)
    text: Mapped[str] = mapped_column(Text)
    definition: Mapped[str] = mapped_column(Text, default="")
    numerator: Mapped[str] = mapped_column(Text, default="")
    denominator: Mapped[str] = mapped_column(Text, default="")
    data_source: Mapped[str] = mapped_column(Text, default="")
    rationale: Mapped[str] = mapped_column(Text, default="")
    # Prompts: guidance for inspectors. Indicators: how often reported, and the threshold
    # between "good" and "needs improvement".
    notes: Mapped[str] = mapped_column(Text, default="", server_default="")
    reporting_frequency: Mapped[str] = mapped_column(Text, default="", server_default="")
    threshold: Mapped[str] = mapped_column(Text, default="", server_default="")
    change_note: Mapped[str] = mapped_column(Text, default="")
    # The kind and theme name this version was rated under. None: as the item's (versions
    # made before a revision could change them, or never revised since).
    kind: Mapped[str | None] = mapped_column(String(20))
    theme_name: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    item: Mapped[Item] = relationship(back_populates="versions")

    @property
    def item_kind(self) -> ItemKind:
        return ItemKind(self.kind or self.item.kind)

    @property
    def theme_shown(self) -> str:
        return self.theme_name if self.theme_name is not None else self.item.theme.name


class Round(db.Model):  # type: ignore[name-defined]
    __tablename__ = "rounds"
    __table_args__ = (UniqueConstraint("study_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default=RoundStatus.DRAFT.value)
    instructions: Mapped[str] = mapped_column(Text, default="")
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # "everyone", or "completed_previous": only those who rated every item last round.
    invite_rule: Mapped[str] = mapped_column(
        String(30), default="everyone", server_default="everyone"
    )

    study: Mapped[Study] = relationship(back_populates="rounds")
    round_items: Mapped[list[RoundItem]] = relationship(
        back_populates="round", order_by="RoundItem.position"
    )

    @property
    def round_status(self) -> RoundStatus:
        return RoundStatus(self.status)


class RoundItem(db.Model):  # type: ignore[name-defined]
    """Which item version is rated in which round."""

    __tablename__ = "round_items"
    __table_args__ = (UniqueConstraint("round_id", "item_version_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    item_version_id: Mapped[int] = mapped_column(ForeignKey("item_versions.id"))
    position: Mapped[int] = mapped_column(Integer, default=0)

    round: Mapped[Round] = relationship(back_populates="round_items")
    item_version: Mapped[ItemVersion] = relationship()


class Criterion(db.Model):  # type: ignore[name-defined]
    """What a rating judges (`delphi.criteria`): every study has at least one, and starts
    with "Importance" (made with the study, `_every_study_has_a_criterion`)."""

    __tablename__ = "criteria"
    __table_args__ = (UniqueConstraint("study_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    question: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    # The item kinds it is asked of, "prompt,indicator" (`delphi.criteria.parse_kinds`).
    applies_to: Mapped[str] = mapped_column(String(100), default="prompt,indicator")

    study: Mapped[Study] = relationship(back_populates="criteria")

    @property
    def kinds(self) -> frozenset[ItemKind]:
        return parse_kinds(self.applies_to)

    def applies(self, kind: ItemKind | str) -> bool:
        return ItemKind(kind) in self.kinds

    @property
    def spec(self) -> CriterionSpec:
        return CriterionSpec(self.name, self.question, self.kinds)


@event.listens_for(Study, "after_insert")
def _every_study_has_a_criterion(mapper: Any, connection: Any, study: Study) -> None:
    # Every way a study is made (the setup pages, the demo, tests, benchmarks) gets the one
    # criterion that a study rated on a single scale has always had.
    connection.execute(
        Criterion.__table__.insert().values(
            study_id=study.id,
            name=DEFAULT_NAME,
            question=DEFAULT_QUESTION,
            position=0,
            applies_to=format_kinds(ItemKind),
        )
    )


def _first_criterion(context: Any) -> int | None:
    """A rating saved without a criterion is on its study's first (code written before
    criteria, and every study with one criterion)."""
    round_id = context.get_current_parameters()["round_id"]
    return context.connection.execute(
        select(Criterion.id)
        .join(Round, Round.study_id == Criterion.study_id)
        .where(Round.id == round_id)
        .order_by(Criterion.position, Criterion.id)
        .limit(1)
    ).scalar()


class Rating(db.Model):  # type: ignore[name-defined]
    __tablename__ = "ratings"
    __table_args__ = (
        UniqueConstraint("panellist_id", "item_version_id", "round_id", "criterion_id"),
        # A round's ratings (its figures, results page, progress): migration 0013.
        Index("ix_ratings_round_id_panellist_id", "round_id", "panellist_id"),
        # The few ratings with a reason for changing band (round results): migration 0025.
        Index(
            "ix_ratings_changed_round_id",
            "round_id",
            postgresql_where=text("change_reason <> ''"),
            sqlite_where=text("change_reason <> ''"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    panellist_id: Mapped[int] = mapped_column(ForeignKey("panellists.id", ondelete="CASCADE"))
    item_version_id: Mapped[int] = mapped_column(ForeignKey("item_versions.id"))
    criterion_id: Mapped[int] = mapped_column(
        ForeignKey("criteria.id", ondelete="CASCADE"), default=_first_criterion
    )
    score: Mapped[int | None] = mapped_column(Integer)
    unable: Mapped[bool] = mapped_column(Boolean, default=False)
    # The ballot asks for a reason once per item, and keeps it on the rating of the item's
    # first criterion (app/services/ballot.py).
    reason: Mapped[str] = mapped_column(Text, default="")
    # Why the panellist moved to another band than in their previous round (asked, optional).
    change_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReasonReview(db.Model):  # type: ignore[name-defined]
    """A rating's reason hidden from the rest of the panel by a facilitator, with why
    (`delphi.reasons`); its author still reads it, and the hiding reason. Deleted when shown
    again (the audit log keeps both)."""

    __tablename__ = "reason_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    rating_id: Mapped[int] = mapped_column(
        ForeignKey("ratings.id", ondelete="CASCADE"), unique=True
    )
    reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    hidden_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RoundSnapshot(db.Model):  # type: ignore[name-defined]
    """The frozen results of a closed round: computed once, never rewritten."""

    __tablename__ = "round_snapshots"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), unique=True)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    # What the dashboard and the results across rounds show, a few per cent of the payload
    # (`app.services.results.summarise`); None for rounds closed before it was kept.
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)

    @property
    def results(self) -> dict[str, Any]:
        """The payload as anyone may see it (`delphi.disclosure`): read this, not `payload`."""
        return disclose_round_results(self.payload)

    def keep_stability(self, figures: dict[str, Any] | None) -> None:
        """Add the stability of a round closed before it was stored (no group figures)."""
        # New dicts: a JSON column notices an assignment, not a change inside the old value.
        self.payload = {**self.payload, "stability": figures}
        if self.summary is not None:
            self.summary = {**self.summary, "stability": figures}

    def keep_attrition(self, figures: dict[str, Any]) -> None:
        """Add the attrition-bias check of a round closed before it was stored (group
        figures only: `app.services.reporting.attrition_pair`)."""
        self.payload = {**self.payload, "attrition": figures}
        if self.summary is not None:
            self.summary = {**self.summary, "attrition": figures}


class ItemDecision(db.Model):  # type: ignore[name-defined]
    """The facilitator's decision on an item after a round, beside the rule's suggestion."""

    __tablename__ = "item_decisions"
    __table_args__ = (UniqueConstraint("round_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    suggested: Mapped[str] = mapped_column(String(20))
    decision: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    item: Mapped[Item] = relationship()

    @property
    def value(self) -> Decision:
        return Decision(self.decision)


class AuditEvent(db.Model):  # type: ignore[name-defined]
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int | None] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(60))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User | None] = relationship()


class DiscussionThread(db.Model):  # type: ignore[name-defined]
    """A study's channel (key "channel") or one item's thread (key "item:<id>"), across rounds."""

    __tablename__ = "discussion_threads"
    __table_args__ = (UniqueConstraint("study_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(40))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    summary: Mapped[str] = mapped_column(Text, default="")
    summary_round_id: Mapped[int | None] = mapped_column(ForeignKey("rounds.id"))
    summary_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    summary_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    item: Mapped[Item | None] = relationship()
    summary_round: Mapped[Round | None] = relationship()


class DiscussionMessage(db.Model):  # type: ignore[name-defined]
    """A message; `kind` is "message" or "system". Deleted and hidden messages are kept."""

    __tablename__ = "discussion_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(
        ForeignKey("discussion_threads.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20), default="message")
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    author_panellist_id: Mapped[int | None] = mapped_column(
        ForeignKey("panellists.id", ondelete="SET NULL")
    )
    as_facilitator: Mapped[bool] = mapped_column(Boolean, default=False)
    round_id: Mapped[int | None] = mapped_column(ForeignKey("rounds.id", ondelete="SET NULL"))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("discussion_messages.id", ondelete="SET NULL")
    )
    rating_id: Mapped[int | None] = mapped_column(ForeignKey("ratings.id", ondelete="SET NULL"))
    category: Mapped[str] = mapped_column(String(30), default="")
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    hidden_reason: Mapped[str] = mapped_column(Text, default="")

    thread: Mapped[DiscussionThread] = relationship()
    author_user: Mapped[User | None] = relationship(foreign_keys=[author_user_id])
    author_panellist: Mapped[Panellist | None] = relationship()
    round: Mapped[Round | None] = relationship()
    parent: Mapped[DiscussionMessage | None] = relationship(remote_side=[id])


class DiscussionEvent(db.Model):  # type: ignore[name-defined]
    """Every change to a study's discussion, in order: live pages poll for ids above theirs."""

    __tablename__ = "discussion_events"
    __table_args__ = (Index("ix_discussion_events_study_id_id", "study_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"))
    thread_id: Mapped[int] = mapped_column(ForeignKey("discussion_threads.id", ondelete="CASCADE"))
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("discussion_messages.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    thread: Mapped[DiscussionThread] = relationship()
    message: Mapped[DiscussionMessage | None] = relationship()


class DiscussionRead(db.Model):  # type: ignore[name-defined]
    """How far a person has read a thread, for the unread counts."""

    __tablename__ = "discussion_reads"
    __table_args__ = (UniqueConstraint("user_id", "thread_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    thread_id: Mapped[int] = mapped_column(ForeignKey("discussion_threads.id", ondelete="CASCADE"))
    last_message_id: Mapped[int] = mapped_column(Integer, default=0)


class DiscussionFollow(db.Model):  # type: ignore[name-defined]
    """A person's explicit choice to follow an item's thread or to stop following it.

    Without a row, a person follows an item once they have written in its thread; a row
    overrides that either way (`delphi.notifications.follows`)."""

    __tablename__ = "discussion_follows"
    __table_args__ = (UniqueConstraint("thread_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("discussion_threads.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    following: Mapped[bool] = mapped_column(Boolean)
    chosen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    thread: Mapped[DiscussionThread] = relationship()


class ApiToken(db.Model):  # type: ignore[name-defined]
    """A per-study read-only token for /api/v1; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(100), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Reminder(db.Model):  # type: ignore[name-defined]
    """A reminder emailed to a panellist who had not finished a round."""

    __tablename__ = "reminders"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    panellist_id: Mapped[int] = mapped_column(ForeignKey("panellists.id", ondelete="CASCADE"))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class NotificationSettings(db.Model):  # type: ignore[name-defined]
    """Which emails a person wants (`delphi.notifications.NotificationKind`) and when their
    last discussion digest went out. No row: every kind on, no digest yet."""

    __tablename__ = "notification_settings"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    round_opened: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    reminder: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    round_closed: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    discussion: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    last_digest_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Proposal(db.Model):  # type: ignore[name-defined]
    """A panellist's new item or rewording, and the facilitator's answer to it."""

    __tablename__ = "proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"))
    panellist_id: Mapped[int] = mapped_column(ForeignKey("panellists.id", ondelete="CASCADE"))
    # None: a new item. Otherwise a rewording of this item.
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20), default=ItemKind.PROMPT.value)
    theme: Mapped[str] = mapped_column(String(200), default="")
    text: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text, default="")
    # pending, accepted, merged, declined
    status: Mapped[str] = mapped_column(String(20), default="pending")
    response: Mapped[str] = mapped_column(Text, default="")
    result_item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    # The ideas round (`delphi.ideas`): an idea is a proposal made there, either an answer to
    # one of the open questions or a candidate prompt or indicator (question None). Curating
    # sets `status`, `response` and `result_item_id`; several ideas may share one item.
    ideas_round: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    question_id: Mapped[int | None] = mapped_column(
        ForeignKey("open_questions.id", ondelete="SET NULL")
    )

    panellist: Mapped[Panellist] = relationship()
    item: Mapped[Item | None] = relationship(foreign_keys=[item_id])
    result_item: Mapped[Item | None] = relationship(foreign_keys=[result_item_id])
    question: Mapped[OpenQuestion | None] = relationship()
    comments: Mapped[list[IdeaComment]] = relationship(
        order_by="IdeaComment.created_at", cascade="all, delete-orphan", passive_deletes=True
    )


class OpenQuestion(db.Model):  # type: ignore[name-defined]
    """A question the facilitators ask in the ideas round, answered in free text."""

    __tablename__ = "open_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IdeaComment(db.Model):  # type: ignore[name-defined]
    """A panellist's comment on an idea in the ideas round; others see the pseudonym only."""

    __tablename__ = "idea_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )
    panellist_id: Mapped[int | None] = mapped_column(
        ForeignKey("panellists.id", ondelete="SET NULL")
    )
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    panellist: Mapped[Panellist | None] = relationship()


class RecoveryCode(db.Model):  # type: ignore[name-defined]
    """A single-use code that stands in for a two-step code; only its SHA-256 is stored."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginAttempt(db.Model):  # type: ignore[name-defined]
    """A failed sign-in, keyed by account ("email:...") or address ("ip:..."), for rate limits."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_key_created_at", "key", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LiveSnapshot(db.Model):  # type: ignore[name-defined]
    """Real-time Delphi: the results frozen by a facilitator at a moment they chose."""

    __tablename__ = "live_snapshots"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(String(200), default="")
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    taken_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)

    @property
    def results(self) -> dict[str, Any]:
        """The payload as anyone may see it (`delphi.disclosure`): read this, not `payload`."""
        return disclose_round_results(self.payload)


class IndicatorTestData(db.Model):  # type: ignore[name-defined]
    """Trust-level data uploaded for an indicator, analysed with a funnel plot
    (`scoring.funnel`): evidence shown to the panel, never a rating. One set per indicator;
    a new upload replaces it whole."""

    __tablename__ = "indicator_test_data"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), unique=True)
    period: Mapped[str] = mapped_column(String(200), default="")
    source: Mapped[str] = mapped_column(Text, default="")
    filename: Mapped[str] = mapped_column(String(255), default="")
    # [{"code", "name", "numerator", "denominator", "rating"}], in the file's order: written
    # in one row, so an upload is stored whole or not at all.
    rows: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    lower_is_better: Mapped[bool] = mapped_column(Boolean, default=False)
    method: Mapped[str] = mapped_column(String(20), default="additive")
    # Values are shown per 100 (a percentage) or per 1,000.
    per: Mapped[int] = mapped_column(Integer, default=100)
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    shown_to_panel: Mapped[bool] = mapped_column(Boolean, default=False)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
