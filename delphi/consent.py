"""Consent and declared interests: who must agree to what before they answer.

A study's participant information is versioned; a panellist who rates (a partner or a
patient representative) agrees to its current version before their first answer, and again
whenever a facilitator publishes a new version. Observers read but give no answers, so
nothing is asked of them. A study without participant information asks nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from delphi.errors import DomainError, ReasonRequired
from delphi.model import PanelRole

CONSENT_NEEDED_MESSAGE = (
    "Before you answer, read the participant information and agree to take part."
)
CONSENT_RENEWED_MESSAGE = (
    "The participant information has changed since you agreed. Read it and agree again "
    "before you answer."
)
MAX_INTERESTS = 4000


class ConsentNeeded(DomainError):
    """A panellist tried to answer before agreeing to the current participant information."""

    status_code = 403


def needs_consent(role: PanelRole, current_version: int | None, agreed_version: int | None) -> bool:
    """Whether this panellist must (again) agree before answering."""
    if current_version is None or not role.can_rate:
        return False
    return agreed_version is None or agreed_version < current_version


def check_consented(
    role: PanelRole, current_version: int | None, agreed_version: int | None
) -> None:
    """Raise `ConsentNeeded` unless the panellist has agreed to the current version."""
    if needs_consent(role, current_version, agreed_version):
        raise ConsentNeeded(
            CONSENT_RENEWED_MESSAGE if agreed_version is not None else CONSENT_NEEDED_MESSAGE
        )


@dataclass(frozen=True)
class Interests:
    """What a panellist declared: `none` ("I have no interests to declare"), or a text."""

    none: bool
    text: str

    @property
    def shown(self) -> str:
        return "None declared" if self.none else self.text


def declare_interests(choice: str, text: str) -> Interests:
    """A declaration from the form's choice ("none" or "some") and its text."""
    text = text.strip()
    if choice == "none":
        return Interests(none=True, text="")
    if choice != "some":
        raise ReasonRequired("Say whether you have any interests to declare")
    if not text:
        raise ReasonRequired(
            "Describe your interests, or choose \u201cI have none to declare\u201d"
        )
    if len(text) > MAX_INTERESTS:
        raise ReasonRequired(f"Describe your interests in {MAX_INTERESTS} characters or fewer")
    return Interests(none=False, text=text)


def check_statements_agreed(statements: list[str], agreed: list[int]) -> None:
    """Every consent statement must be ticked."""
    missing = [i for i in range(len(statements)) if i not in set(agreed)]
    if missing:
        raise ReasonRequired("Tick every statement to agree to take part")
