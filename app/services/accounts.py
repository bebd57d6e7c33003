"""Accounts set up by an administrator (`flask create-facilitator`)."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import User
from app.services.sessions import set_password
from app.services.transaction import transactional


@transactional
def make_facilitator(email: str, name: str, password: str) -> User:
    """Create a user who can create and facilitate studies, or promote an existing one; the
    password is set and every session the account had is ended."""
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(email=email, name=name or email.split("@")[0])
        db.session.add(user)
    user.can_create_studies = True
    db.session.flush()
    set_password(user, password)
    if name:
        user.name = name
    return user
