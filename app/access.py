"""Who may see and do what in a study. Every view goes through one of these."""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort
from flask_login import current_user
from sqlalchemy import and_, select

from app.extensions import db
from app.models import Panellist, Study, StudyFacilitator


@dataclass(frozen=True)
class Membership:
    study: Study
    panellist: Panellist | None
    is_facilitator: bool


def study_by_slug(slug: str) -> Study:
    study = db.session.scalar(select(Study).where(Study.slug == slug))
    if study is None:
        abort(404)
    return study


def is_facilitator_of(user_id: int, study_id: int) -> bool:
    return (
        db.session.scalar(
            select(StudyFacilitator.id).where(
                StudyFacilitator.study_id == study_id, StudyFacilitator.user_id == user_id
            )
        )
        is not None
    )


def membership(slug: str) -> Membership:
    """The signed-in user's place in the study; 404 for people outside it.

    Outsiders get 404 rather than 403 so that a study's existence is not revealed.
    """
    if not current_user.is_authenticated:
        abort(401)
    user_id = current_user.id
    # One query for the study and the user's two possible places in it: this runs on every
    # request, autosaves included.
    row = db.session.execute(
        select(Study, StudyFacilitator.id, Panellist)
        .outerjoin(
            StudyFacilitator,
            and_(StudyFacilitator.study_id == Study.id, StudyFacilitator.user_id == user_id),
        )
        .outerjoin(
            Panellist,
            and_(
                Panellist.study_id == Study.id,
                Panellist.user_id == user_id,
                Panellist.joined_at.is_not(None),
            ),
        )
        .where(Study.slug == slug)
    ).first()
    if row is None:
        abort(404)
    study, facilitator_id, panellist = row
    facilitator = facilitator_id is not None
    if not facilitator and panellist is None:
        abort(404)
    return Membership(study, panellist, facilitator)


def facilitated_study(slug: str) -> Study:
    """The study, if the signed-in user facilitates it; 403 for its panellists."""
    member = membership(slug)
    if not member.is_facilitator:
        abort(403, description="Only the study's facilitators can do that.")
    return member.study
