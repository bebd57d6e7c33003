"""Domain errors. Each carries a sentence a panellist or facilitator can act on."""


class DomainError(Exception):
    """A rule of the Delphi process was broken; `str(error)` is the message for people."""

    status_code: int = 409


class RoundClosed(DomainError):
    """A rating or change arrived after the round closed."""


class RoundNotOpen(DomainError):
    """The round has not been opened yet."""


class AnswerChangedElsewhere(DomainError):
    """A page loaded before an answer was last saved sent a different answer for it."""


class RatingOutOfRange(DomainError):
    """A score outside the study's scale."""

    status_code = 422


class NotAllowedToRate(DomainError):
    """Observers read but cannot rate; people outside the panel cannot either."""

    status_code = 403


class ReasonRequired(DomainError):
    """A facilitator's choice needs a reason that was not given."""

    status_code = 422


class InvalidTransition(DomainError):
    """A study or round cannot move to the asked-for state from where it is."""
