"""The open ideas round before rating: questions, ideas, comments and curation.

An idea is a `Proposal` with `ideas_round` set: an answer to one of the facilitators' open
questions (kind "answer") or a candidate prompt or indicator. Curating answers it the way a
proposal is answered (status, response, result_item_id), so several ideas merged into one
item each keep the link to it. The rules are `delphi.ideas`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import IdeaComment, Item, OpenQuestion, Panellist, Proposal, Study, User, utcnow
from app.services import audit
from app.services.consent import check_may_answer
from app.services.studies import ItemFields, add_item
from app.services.transaction import transactional
from delphi import DomainError, ItemKind, RoundStatus, check_record_open
from delphi import ideas as rules
from delphi.ideas import IdeaFact, IdeaOutcome, IdeasStatus, IdeasSummary

ANSWER = "answer"
KIND_LABELS = {ANSWER: "Answer", "prompt": "Candidate prompt", "indicator": "Candidate indicator"}


def status_of(study: Study) -> IdeasStatus:
    return IdeasStatus(study.ideas_status or IdeasStatus.NONE.value)


def rounds_opened(study: Study) -> int:
    return sum(r.round_status is not RoundStatus.DRAFT for r in study.rounds)


@transactional
def open_ideas_round(study: Study, user: User) -> None:
    rules.check_can_open_ideas(
        study_status=study.study_status, ideas=status_of(study), rounds_opened=rounds_opened(study)
    )
    study.ideas_status = IdeasStatus.OPEN.value
    audit.record(study.id, "ideas.opened", by=user.id)


@transactional
def close_ideas_round(study: Study, user: User) -> None:
    check_record_open(study.study_status, action="closing the ideas round")
    rules.check_can_close_ideas(ideas=status_of(study))
    study.ideas_status = IdeasStatus.CLOSED.value
    audit.record(study.id, "ideas.closed", by=user.id, ideas=len(ideas_for(study)))


def questions_for(study: Study) -> list[OpenQuestion]:
    return list(
        db.session.scalars(
            select(OpenQuestion)
            .where(OpenQuestion.study_id == study.id)
            .order_by(OpenQuestion.position, OpenQuestion.id)
        )
    )


@transactional
def add_question(study: Study, text: str, user: User) -> OpenQuestion:
    rules.check_may_edit_questions(
        study_status=study.study_status, rounds_opened=rounds_opened(study)
    )
    if not text.strip():
        raise DomainError("Enter the question")
    position = db.session.scalar(
        select(func.max(OpenQuestion.position)).where(OpenQuestion.study_id == study.id)
    )
    question = OpenQuestion(study_id=study.id, text=text.strip(), position=(position or 0) + 1)
    db.session.add(question)
    db.session.flush()
    audit.record(study.id, "ideas.question_added", by=user.id, question=question.id)
    return question


@transactional
def remove_question(question: OpenQuestion, study: Study, user: User) -> None:
    rules.check_may_edit_questions(
        study_status=study.study_status, rounds_opened=rounds_opened(study)
    )
    answered = db.session.scalar(
        select(func.count(Proposal.id)).where(Proposal.question_id == question.id)
    )
    if answered:
        raise DomainError("This question has answers, so it stays part of the record.")
    db.session.delete(question)
    audit.record(study.id, "ideas.question_removed", by=user.id, question=question.id)


def ideas_for(study: Study, panellist: Panellist | None = None) -> list[Proposal]:
    query = (
        select(Proposal)
        .where(Proposal.study_id == study.id, Proposal.ideas_round.is_(True))
        .options(
            selectinload(Proposal.comments).selectinload(IdeaComment.panellist),
            selectinload(Proposal.panellist).selectinload(Panellist.group),
            selectinload(Proposal.result_item),
        )
        .order_by(Proposal.created_at, Proposal.id)
    )
    if panellist is not None:
        query = query.where(Proposal.panellist_id == panellist.id)
    return list(db.session.scalars(query))


def idea_of(study: Study, idea_id: int) -> Proposal | None:
    """The study's idea with this id; None for a proposal, another study's idea or no idea."""
    idea = db.session.get(Proposal, idea_id)
    if idea is None or idea.study_id != study.id or not idea.ideas_round:
        return None
    return idea


@transactional
def add_idea(
    study: Study,
    panellist: Panellist,
    *,
    question: OpenQuestion | None,
    kind: str,
    text: str,
    theme: str = "",
) -> Proposal:
    rules.check_may_contribute(
        study_status=study.study_status, ideas=status_of(study), role=panellist.panel_role
    )
    # An idea is an answer: the panellist agrees to the participant information first.
    check_may_answer(panellist)
    if question is not None and question.study_id != study.id:
        raise DomainError("Choose one of this study's questions.")
    if question is None and kind not in {k.value for k in ItemKind}:
        raise DomainError("Choose a candidate prompt or indicator.")
    if not text.strip():
        raise DomainError("Enter your idea")
    idea = Proposal(
        study_id=study.id,
        panellist_id=panellist.id,
        ideas_round=True,
        question_id=question.id if question else None,
        kind=ANSWER if question else kind,
        theme=theme.strip(),
        text=text.strip(),
        reason="",
    )
    db.session.add(idea)
    db.session.flush()
    audit.record(study.id, "ideas.idea_added", by=panellist.user_id, idea=idea.id)
    return idea


@transactional
def add_comment(study: Study, idea: Proposal, panellist: Panellist, text: str) -> IdeaComment:
    rules.check_may_contribute(
        study_status=study.study_status, ideas=status_of(study), role=panellist.panel_role
    )
    check_may_answer(panellist)
    if not text.strip():
        raise DomainError("Enter your comment")
    comment = IdeaComment(proposal_id=idea.id, panellist_id=panellist.id, text=text.strip())
    db.session.add(comment)
    db.session.flush()
    return comment


@dataclass(frozen=True)
class NewItem:
    """The item several ideas become, in the facilitators' wording."""

    kind: ItemKind
    theme: str
    text: str
    definition: str = ""


@transactional
def curate(
    study: Study,
    ideas: list[Proposal],
    outcome: IdeaOutcome,
    user: User,
    *,
    reason: str = "",
    new_item: NewItem | None = None,
    merge_into: Item | None = None,
) -> Item | None:
    """Turn the chosen ideas into one new item, merge them into an existing item, or decline
    them with a reason their authors read. Every idea keeps the link to its item."""
    rules.check_curation(
        outcome=outcome,
        pending=[i.status == IdeaOutcome.PENDING.value for i in ideas],
        reason=reason,
        study_status=study.study_status,
    )
    result: Item | None = None
    if outcome is IdeaOutcome.ACCEPTED:
        if new_item is None or not new_item.text.strip():
            raise DomainError("Enter the wording of the new item")
        if new_item.kind is ItemKind.INDICATOR and not new_item.definition.strip():
            raise DomainError("Enter the indicator's definition")
        result = add_item(
            study,
            ItemFields(
                kind=new_item.kind,
                theme=new_item.theme.strip() or "Ideas from the panel",
                text=new_item.text.strip(),
                definition=new_item.definition.strip(),
            ),
            user,
        )
    elif outcome is IdeaOutcome.MERGED:
        if merge_into is None or merge_into.study_id != study.id:
            raise DomainError("Choose the item to merge the ideas into.")
        result = merge_into
    now = utcnow()
    for idea in ideas:
        idea.status = outcome.value
        idea.response = reason.strip()
        idea.result_item_id = result.id if result else None
        idea.decided_at = now
        idea.decided_by_id = user.id
    audit.record(
        study.id,
        f"ideas.{outcome.value}",
        by=user.id,
        ideas=[i.id for i in ideas],
        item=result.ref if result else None,
    )
    return result


def summary(study: Study) -> IdeasSummary | None:
    """The ideas round for the specification's methods; None when the study had none."""
    if status_of(study) is IdeasStatus.NONE:
        return None
    ideas = ideas_for(study)
    comments = db.session.scalar(
        select(func.count(IdeaComment.id))
        .join(Proposal, Proposal.id == IdeaComment.proposal_id)
        .where(Proposal.study_id == study.id, Proposal.ideas_round.is_(True))
    )
    return rules.summarise(
        questions=len(questions_for(study)),
        comments=comments or 0,
        groups=[g.name for g in study.groups],
        ideas=[
            IdeaFact(
                group=i.panellist.group.name,
                author=i.panellist_id,
                outcome=IdeaOutcome(i.status),
                item=i.result_item.ref if i.result_item else None,
            )
            for i in ideas
        ],
    )
