"""Participant information, consent and declared interests (issue 17, "Joining a panel").

The rules (who must agree, to which version, what a declaration is) live in
`delphi.consent`; this module loads and stores them, each write one audited transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, select

from app.extensions import db
from app.inputs import clean_text
from app.models import Consent, Panellist, ParticipantInformation, Study, User, utcnow
from app.services import audit
from app.services.transaction import transactional
from delphi import (
    ConsentNeeded,
    Interests,
    ReasonRequired,
    check_consented,
    check_record_open,
    check_statements_agreed,
)
from delphi.withdrawal import check_not_withdrawn

MAX_INFORMATION = 50_000


@dataclass(frozen=True)
class ConsentState:
    """Where a panellist stands: the version they agreed to last, and when."""

    version: int
    agreed_at: datetime


def current_information(study: Study) -> ParticipantInformation | None:
    """The latest version of the study's participant information; None if it has none."""
    return db.session.scalar(
        select(ParticipantInformation)
        .where(ParticipantInformation.study_id == study.id)
        .order_by(ParticipantInformation.version.desc())
        .limit(1)
    )


def current_version(study_id: int) -> int | None:
    return db.session.scalar(
        select(func.max(ParticipantInformation.version)).where(
            ParticipantInformation.study_id == study_id
        )
    )


def latest_consent(panellist: Panellist) -> ConsentState | None:
    row = db.session.execute(
        select(Consent.version, Consent.agreed_at)
        .where(Consent.panellist_id == panellist.id)
        .order_by(Consent.version.desc())
        .limit(1)
    ).first()
    return ConsentState(row.version, row.agreed_at) if row else None


def consents_by_panellist(study: Study) -> dict[int, ConsentState]:
    """Each panellist's latest agreement, in one query (the Panel page)."""
    rows = db.session.execute(
        select(Consent.panellist_id, Consent.version, Consent.agreed_at)
        .join(Panellist, Panellist.id == Consent.panellist_id)
        .where(Panellist.study_id == study.id)
        .order_by(Consent.panellist_id, Consent.version)
    )
    return {r.panellist_id: ConsentState(r.version, r.agreed_at) for r in rows}


def must_consent(panellist: Panellist) -> str | None:
    """Why this panellist must (again) agree before they answer; None when they need not."""
    if panellist.withdrawn_at is not None:
        return None
    try:
        check_may_answer(panellist)
    except ConsentNeeded as error:
        return str(error)
    return None


# The current information's version and the panellist's latest agreement, built once with
# bound parameters: it runs before every saved answer.
_VERSIONS = select(
    select(func.max(ParticipantInformation.version))
    .where(ParticipantInformation.study_id == bindparam("p_study"))
    .scalar_subquery(),
    select(func.max(Consent.version))
    .where(Consent.panellist_id == bindparam("p_panellist"))
    .scalar_subquery(),
)


def check_may_answer(panellist: Panellist) -> None:
    """Raise `ConsentNeeded` unless the panellist agreed to the current version.

    One statement: it runs before every saved answer. A withdrawn panellist answers no
    more (`delphi.withdrawal`)."""
    check_not_withdrawn(panellist.withdrawn_at)
    if not panellist.panel_role.can_rate:
        return
    params = {"p_study": panellist.study_id, "p_panellist": panellist.id}
    row = db.session.execute(_VERSIONS, params).one()
    check_consented(panellist.panel_role, row[0], row[1])


@transactional
def publish_information(
    study: Study, *, text: str, statements: str, actor: User
) -> ParticipantInformation | None:
    """Save the participant information as a new version; None when nothing changed."""
    check_record_open(study.study_status, action="changing the participant information")
    text = clean_text(text).strip()
    statements = "\n".join(
        line.strip() for line in clean_text(statements).splitlines() if line.strip()
    )
    if not text:
        raise ReasonRequired("Enter the participant information")
    if len(text) > MAX_INFORMATION or len(statements) > MAX_INFORMATION:
        raise ReasonRequired(f"Keep the information to {MAX_INFORMATION} characters or fewer")
    current = current_information(study)
    if current is not None and current.text == text and current.statements == statements:
        return None
    version = (current.version if current else 0) + 1
    info = ParticipantInformation(
        study_id=study.id,
        version=version,
        text=text,
        statements=statements,
        created_by_id=actor.id,
    )
    db.session.add(info)
    audit.record(study.id, "consent.information_published", by=actor.id, version=version)
    return info


@transactional
def agree(
    panellist: Panellist,
    *,
    version: int,
    ticked: list[int],
    interests: Interests | None,
) -> None:
    """The panellist agrees to `version` (the one they read) and, the first time, declares
    their interests. Audited as the panellist."""
    study = panellist.study
    check_record_open(study.study_status, action="agreeing to take part")
    info = current_information(study)
    if info is None:
        raise ReasonRequired("This study has no participant information to agree to.")
    if info.version != version:
        raise ReasonRequired(
            "The participant information changed while you were reading it. Read this "
            "version and agree again."
        )
    check_statements_agreed(info.statement_list, ticked)
    if interests is None and panellist.interests_declared_at is None:
        raise ReasonRequired("Say whether you have any interests to declare")
    exists = db.session.scalar(
        select(Consent.id).where(Consent.panellist_id == panellist.id, Consent.version == version)
    )
    if exists is None:
        db.session.add(Consent(panellist_id=panellist.id, version=version, agreed_at=utcnow()))
    audit.record(study.id, "consent.agreed", by=panellist.user_id, version=version)
    if interests is not None:
        _declare(panellist, interests)


@transactional
def update_interests(panellist: Panellist, interests: Interests) -> None:
    """The panellist declares or updates their interests. Audited as the panellist."""
    check_record_open(panellist.study.study_status, action="changing declared interests")
    _declare(panellist, interests)


def _declare(panellist: Panellist, interests: Interests) -> None:
    panellist.interests_none = interests.none
    panellist.interests = interests.text
    panellist.interests_declared_at = utcnow()
    audit.record(
        panellist.study_id,
        "consent.interests_declared",
        by=panellist.user_id,
        none=interests.none,
    )


def interests_of(panellist: Panellist) -> Interests | None:
    if panellist.interests_declared_at is None:
        return None
    return Interests(none=panellist.interests_none, text=panellist.interests)
