"""Background questions and the panel's answers (issue 17, "Panel characteristics").

The presets, what an answer may be and how answers are summarised per group live in
`delphi.background`; this module stores questions and answers, each write one audited
transaction. Answers are personal data: `app.services.privacy` erases and exports them.
The audit log records that a panellist answered, never what.
"""

from __future__ import annotations

from sqlalchemy import delete, func, select

from app.extensions import db
from app.models import BackgroundAnswer, BackgroundQuestion, Panellist, Study, User, utcnow
from app.services import audit
from app.services.transaction import transactional
from delphi import PanelRole, ReasonRequired, check_record_open
from delphi.background import (
    PRESET_KEYS,
    QuestionSummary,
    check_answer,
    check_question,
    parse_options,
    summarise,
)
from delphi.withdrawal import check_not_withdrawn


def questions(study: Study) -> list[BackgroundQuestion]:
    return list(
        db.session.scalars(
            select(BackgroundQuestion)
            .where(BackgroundQuestion.study_id == study.id)
            .order_by(BackgroundQuestion.position, BackgroundQuestion.id)
        )
    )


def applies_to(question: BackgroundQuestion, role: PanelRole) -> bool:
    return role.can_rate and (not question.patients_only or role is PanelRole.PATIENT_REP)


def questions_for(panellist: Panellist) -> list[BackgroundQuestion]:
    """The questions this panellist is asked: none for observers, who give no answers."""
    return [q for q in questions(panellist.study) if applies_to(q, panellist.panel_role)]


def answers_of(panellist: Panellist) -> dict[int, str]:
    return {
        a.question_id: a.answer
        for a in db.session.scalars(
            select(BackgroundAnswer).where(BackgroundAnswer.panellist_id == panellist.id)
        )
    }


def unanswered(panellist: Panellist) -> int:
    """How many of the panellist's questions have no answer yet ("prefer not to say" is
    an answer)."""
    if panellist.withdrawn_at is not None:
        return 0
    given = answers_of(panellist)
    return sum(q.id not in given for q in questions_for(panellist))


def _next_position(study: Study) -> int:
    top = db.session.scalar(
        select(func.max(BackgroundQuestion.position)).where(BackgroundQuestion.study_id == study.id)
    )
    return (top or 0) + 1


@transactional
def add_presets(study: Study, keys: list[str], *, actor: User) -> int:
    """Add the chosen presets the study does not ask yet; how many were added."""
    check_record_open(study.study_status, action="changing the background questions")
    asked = {q.preset for q in questions(study) if q.preset}
    added = 0
    position = _next_position(study)
    for key in keys:
        preset = PRESET_KEYS.get(key)
        if preset is None or key in asked:
            continue
        db.session.add(
            BackgroundQuestion(
                study_id=study.id,
                position=position,
                preset=key,
                text=preset.text,
                options="\n".join(preset.options),
                patients_only=preset.patients_only,
            )
        )
        position += 1
        added += 1
        asked.add(key)
    if added:
        audit.record(study.id, "background.questions_changed", by=actor.id, added=added)
    return added


@transactional
def add_question(
    study: Study, *, text: str, options: str, patients_only: bool, actor: User
) -> BackgroundQuestion:
    """Add the facilitator's own question with its options (`delphi.background`)."""
    check_record_open(study.study_status, action="changing the background questions")
    question = BackgroundQuestion(
        study_id=study.id,
        position=_next_position(study),
        text=check_question(text),
        options="\n".join(parse_options(options)),
        patients_only=patients_only,
    )
    db.session.add(question)
    audit.record(study.id, "background.questions_changed", by=actor.id, added=1)
    return question


@transactional
def remove_question(study: Study, question: BackgroundQuestion, *, actor: User) -> None:
    """Remove a question and every answer to it."""
    check_record_open(study.study_status, action="changing the background questions")
    db.session.execute(delete(BackgroundAnswer).where(BackgroundAnswer.question_id == question.id))
    db.session.delete(question)
    audit.record(study.id, "background.questions_changed", by=actor.id, removed=1)


@transactional
def save_answers(panellist: Panellist, chosen: dict[int, str]) -> None:
    """Store the panellist's answers (`chosen`: question id to the option, "" or "Prefer
    not to say"). Every question must be answered, "prefer not to say" being an answer.
    Audited as the panellist, without the answers."""
    study = panellist.study
    check_record_open(study.study_status, action="changing background answers")
    check_not_withdrawn(panellist.withdrawn_at)
    asked = questions_for(panellist)
    if not asked:
        raise ReasonRequired("This study asks you no background questions.")
    stored = {
        a.question_id: a
        for a in db.session.scalars(
            select(BackgroundAnswer).where(BackgroundAnswer.panellist_id == panellist.id)
        )
    }
    now = utcnow()
    for question in asked:
        raw = chosen.get(question.id)
        if raw is None:
            raise ReasonRequired(
                f"Answer \u201c{question.text}\u201d, or choose \u201cprefer not to say\u201d"
            )
        answer = check_answer(question.option_list, raw)
        row = stored.get(question.id)
        if row is None:
            db.session.add(
                BackgroundAnswer(
                    panellist_id=panellist.id,
                    question_id=question.id,
                    answer=answer,
                    answered_at=now,
                )
            )
        elif row.answer != answer:
            row.answer = answer
            row.answered_at = now
    audit.record(study.id, "background.answered", by=panellist.user_id)


def who_took_part(study: Study) -> list[QuestionSummary]:
    """Each question's answers counted per stakeholder group (`delphi.background.summarise`):
    a group with fewer than three answers is withheld. Everyone who joined and answered is
    counted, withdrawn panellists too unless they had their answers removed."""
    groups = [g.name for g in study.groups]
    rows = db.session.execute(
        select(BackgroundAnswer.question_id, BackgroundAnswer.answer, Panellist.group_id)
        .join(Panellist, Panellist.id == BackgroundAnswer.panellist_id)
        .where(Panellist.study_id == study.id, Panellist.joined_at.is_not(None))
    ).all()
    name_of = {g.id: g.name for g in study.groups}
    out = []
    for question in questions(study):
        pairs = [
            (name_of.get(r.group_id, ""), r.answer) for r in rows if r.question_id == question.id
        ]
        out.append(summarise(question.text, question.option_list, groups, pairs))
    return out
