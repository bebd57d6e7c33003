"""Who may see and do what in a study. Every view goes through one of these."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NoReturn

from flask import abort, flash, make_response, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import Row, and_, bindparam, func, select
from sqlalchemy.orm.attributes import set_committed_value

from app.extensions import db
from app.htmx import is_htmx
from app.models import Item, Panellist, Round, RoundItem, Study, StudyFacilitator


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


# Built once with bound parameters: membership runs on every request, and building a query
# costs about as much as running it.
_PLACES = (
    select(Study, StudyFacilitator.id, Panellist)
    .outerjoin(
        StudyFacilitator,
        and_(
            StudyFacilitator.study_id == Study.id,
            StudyFacilitator.user_id == bindparam("user_id"),
        ),
    )
    .outerjoin(
        Panellist,
        and_(
            Panellist.study_id == Study.id,
            Panellist.user_id == bindparam("user_id"),
            Panellist.joined_at.is_not(None),
        ),
    )
    .where(Study.slug == bindparam("slug"))
)
_ROUND_ITEMS = (
    select(func.count(RoundItem.id))
    .where(RoundItem.round_id == Round.id)
    .correlate(Round)
    .scalar_subquery()
)
_PLACES_AND_ROUND = _PLACES.add_columns(Round, _ROUND_ITEMS).outerjoin(
    Round, and_(Round.study_id == Study.id, Round.number == bindparam("number"))
)


def _signed_in_user_id() -> int:
    if not current_user.is_authenticated:
        abort(401)
    return int(current_user.id)


def _member(row: Row[Any] | None) -> Membership:
    if row is None:
        abort(404)
    study, facilitator_id, panellist = row[:3]
    facilitator = facilitator_id is not None
    if not facilitator and panellist is None:
        abort(404)
    if facilitator and study.require_two_step and not current_user.has_two_step:
        _two_step_first(study)
    return Membership(study, panellist, facilitator)


def _two_step_first(study: Study) -> NoReturn:
    """A study that requires two-step sign-in of its facilitators: one without it is sent
    to set it up, and comes back here afterwards."""
    if request.path.startswith("/api/"):
        abort(403, description="This study requires two-step sign-in of its facilitators.")
    flash(
        f"{study.title} requires its facilitators to use two-step sign-in. Set it up to continue.",
        "info",
    )
    back = request.full_path.rstrip("?") if request.method == "GET" else f"/studies/{study.slug}"
    target = url_for("account.set_up", next=back)
    if is_htmx():
        # A fragment request: the whole page goes to the setup, not a swap inside it.
        response = make_response("", 204)
        response.headers["HX-Redirect"] = target
        abort(response)
    abort(redirect(target, 303))


def membership(slug: str) -> Membership:
    """The signed-in user's place in the study; 404 for people outside it.

    Outsiders get 404 rather than 403 so that a study's existence is not revealed. One query:
    this runs on every request.
    """
    params = {"user_id": _signed_in_user_id(), "slug": slug}
    return _member(db.session.execute(_PLACES, params).first())


def membership_in_round(slug: str, number: int) -> tuple[Membership, Round, int]:
    """`membership`, with the study's round `number` and how many items it has, in the same
    query: the ballot's autosave runs it on every answer. 404 if there is no such round."""
    params = {"user_id": _signed_in_user_id(), "slug": slug, "number": number}
    row = db.session.execute(_PLACES_AND_ROUND, params).first()
    member = _member(row)
    round_ = row[3] if row is not None else None
    if round_ is None:
        _no_round(number)
    return member, _linked(round_, member.study), int(row[4])


def _no_round(number: int) -> NoReturn:
    abort(404, description=f"Round {number} does not exist.")


def _linked(round_: Round, study: Study) -> Round:
    # The session holds loaded objects weakly: link the round to its study so the study (and
    # its rounds) stay loaded for the request instead of being queried again via round.study.
    set_committed_value(round_, "study", study)
    return round_


def round_of(study: Study, number: int) -> Round:
    """The study's round `number`; 404 if there is none."""
    found = next((r for r in study.rounds if r.number == number), None)
    if found is None:
        _no_round(number)
    return _linked(found, study)


def item_of(study: Study, ref: str) -> Item:
    """The study's item `ref` (P1, I2 ...); references are upper case, so `p1` finds P1 too.
    404 if there is none."""
    item = db.session.scalar(select(Item).where(Item.study_id == study.id, Item.ref == ref.upper()))
    if item is None:
        abort(404)
    return item


def facilitated_study(slug: str) -> Study:
    """The study, if the signed-in user facilitates it; 403 for its panellists."""
    member = membership(slug)
    if not member.is_facilitator:
        abort(403, description="Only the study's facilitators can do that.")
    return member.study
