"""The Delphi domain: study and round rules as plain data and pure functions.

Never imports Flask, SQLAlchemy or pandas; the web layer converts its rows into these
dataclasses, calls the rules, and turns `DomainError`s into messages for people.
"""

from delphi.disclosure import (
    MIN_GROUP_RATERS,
    WITHHELD_NOTE,
    disclose_group,
    disclose_group_alpha,
    disclose_round_results,
    group_figures_visible,
)
from delphi.errors import (
    AnswerChangedElsewhere,
    DomainError,
    InvalidTransition,
    NotAllowedToRate,
    RatingOutOfRange,
    ReasonRequired,
    RoundClosed,
    RoundNotOpen,
)
from delphi.items import (
    FieldChange,
    ItemContent,
    ItemField,
    fields_for,
    item_changes,
)
from delphi.model import (
    VOCABULARY,
    ConsensusStatus,
    Decision,
    ItemKind,
    Outcome,
    PanelRole,
    RoundStatus,
    Scale,
    ScaleBand,
    StudyMode,
    StudyStatus,
)
from delphi.ratings import RatingChoice, check_not_overwriting, validate_rating
from delphi.rounds import (
    DecisionForPanel,
    RoundState,
    check_can_close,
    check_can_complete,
    check_can_open,
    check_can_reopen,
    check_can_reopen_study,
    check_decision,
    check_record_open,
    decision_for_panel,
    suggest_decision,
)
from delphi.stability import StabilityPairing, pair_for_stability, wording_changed_verdict
from scale_bands import Band

__all__ = [
    "MIN_GROUP_RATERS",
    "VOCABULARY",
    "WITHHELD_NOTE",
    "AnswerChangedElsewhere",
    "Band",
    "ConsensusStatus",
    "Decision",
    "DecisionForPanel",
    "DomainError",
    "FieldChange",
    "InvalidTransition",
    "ItemContent",
    "ItemField",
    "ItemKind",
    "NotAllowedToRate",
    "Outcome",
    "PanelRole",
    "RatingChoice",
    "RatingOutOfRange",
    "ReasonRequired",
    "RoundClosed",
    "RoundNotOpen",
    "RoundState",
    "RoundStatus",
    "Scale",
    "ScaleBand",
    "StabilityPairing",
    "StudyMode",
    "StudyStatus",
    "check_can_close",
    "check_can_complete",
    "check_can_open",
    "check_can_reopen",
    "check_can_reopen_study",
    "check_decision",
    "check_not_overwriting",
    "decision_for_panel",
    "check_record_open",
    "disclose_group",
    "disclose_group_alpha",
    "disclose_round_results",
    "fields_for",
    "group_figures_visible",
    "item_changes",
    "pair_for_stability",
    "suggest_decision",
    "validate_rating",
    "wording_changed_verdict",
]
