"""Per-study API tokens for facilitators' tools: created shown once, stored as a hash."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import ApiToken, Study, User, utcnow
from app.security import new_token
from app.services import audit
from app.services.transaction import transactional


def tokens_of(study: Study) -> list[ApiToken]:
    return list(
        db.session.scalars(
            select(ApiToken).where(ApiToken.study_id == study.id).order_by(ApiToken.created_at)
        )
    )


def token_of(study: Study, token_id: int | None) -> ApiToken | None:
    """The study's token with that id, if there is one."""
    row = db.session.get(ApiToken, token_id) if token_id is not None else None
    return row if row is not None and row.study_id == study.id else None


@transactional
def create_token(study: Study, label: str, creator: User) -> str:
    """A new token; returns it in full, the only time it is available."""
    token, digest = new_token()
    label = label.strip()[:100]
    db.session.add(
        ApiToken(study_id=study.id, token_hash=digest, label=label, created_by_id=creator.id)
    )
    audit.record(study.id, "api_token.created", by=creator.id, label=label)
    return token


@transactional
def revoke_token(token: ApiToken, actor: User) -> None:
    token.revoked_at = utcnow()
    audit.record(token.study_id, "api_token.revoked", by=actor.id, token=token.id)
