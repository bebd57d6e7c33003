"""Panellists' proposals in an open first round, and the facilitator's answers."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Item, Panellist, Proposal, Study, User, utcnow
from app.services import audit
from app.services.studies import ItemFields, add_item
from app.services.transaction import transactional
from delphi import (
    DomainError,
    InvalidTransition,
    ItemKind,
    RoundStatus,
    StudyStatus,
    check_record_open,
)
from delphi.withdrawal import check_not_withdrawn


def proposals_accepted_now(study: Study) -> bool:
    """Open for proposals: the study allows them and round 2 has not started."""
    if study.study_status is StudyStatus.COMPLETED:
        return False
    if not study.proposals_open or len(study.rounds) > 1:
        return False
    return not study.rounds or study.rounds[0].round_status is not RoundStatus.CLOSED


@transactional
def propose(
    study: Study,
    panellist: Panellist,
    *,
    kind: str,
    item: Item | None,
    theme: str,
    text: str,
    reason: str,
) -> Proposal:
    check_record_open(study.study_status, action="proposing an item")
    check_not_withdrawn(panellist.withdrawn_at)
    if not proposals_accepted_now(study):
        raise InvalidTransition("This study is not taking proposals at the moment.")
    if not panellist.panel_role.can_rate:
        raise DomainError("Observers can read the study but cannot propose items.")
    if kind == "rewording" and item is None:
        raise DomainError("Choose the item you propose new wording for.")
    if kind != "rewording" and not theme.strip():
        raise DomainError("Enter the theme of the new item.")
    proposal = Proposal(
        study_id=study.id,
        panellist_id=panellist.id,
        item_id=item.id if kind == "rewording" and item else None,
        kind=item.kind if kind == "rewording" and item else kind,
        theme=item.theme.name if kind == "rewording" and item else theme.strip(),
        text=text.strip(),
        reason=reason.strip(),
    )
    db.session.add(proposal)
    audit.record(study.id, "proposal.made", by=panellist.user_id, kind=kind)
    return proposal


@transactional
def decide(
    proposal: Proposal, outcome: str, response: str, user: User, merge_into: Item | None = None
) -> Item | None:
    """Accept (a new item), merge (into an existing item's next revision) or decline."""
    check_record_open(proposal_study(proposal).study_status, action="answering a proposal")
    if proposal.status != "pending":
        raise InvalidTransition("This proposal has already been answered.")
    if not response.strip():
        raise DomainError("Give a reason the proposer will see.")
    result: Item | None = None
    if outcome == "accepted":
        result = add_item(
            proposal_study(proposal),
            ItemFields(
                kind=ItemKind(proposal.kind),
                theme=proposal.theme or "Proposed items",
                text=proposal.text,
            ),
            user,
        )
    elif outcome == "merged":
        if merge_into is None:
            raise DomainError("Choose the item to merge the proposal into.")
        result = merge_into
    elif outcome != "declined":
        raise DomainError("Choose accept, merge or decline.")
    proposal.status = outcome
    proposal.response = response.strip()
    proposal.result_item_id = result.id if result else None
    proposal.decided_at = utcnow()
    proposal.decided_by_id = user.id
    audit.record(
        proposal.study_id,
        f"proposal.{outcome}",
        by=user.id,
        proposal=proposal.id,
        item=result.ref if result else None,
    )
    return result


def proposal_study(proposal: Proposal) -> Study:
    study = db.session.get(Study, proposal.study_id)
    assert study is not None
    return study


def proposals_for(study: Study, panellist: Panellist | None = None) -> list[Proposal]:
    # Ideas from the ideas round have their own pages (app/services/ideas.py).
    query = (
        select(Proposal)
        .where(Proposal.study_id == study.id, Proposal.ideas_round.is_(False))
        .order_by(Proposal.created_at)
    )
    if panellist is not None:
        query = query.where(Proposal.panellist_id == panellist.id)
    return list(db.session.scalars(query))
