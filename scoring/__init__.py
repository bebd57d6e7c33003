"""Statistics for Delphi consensus: per-item rules, Krippendorff's alpha, stability.

Pure package (pandas, numpy, scipy, krippendorff). See scoring/README.md for definitions.
"""

from scoring.criteria import (
    CriterionAnalysis,
    alpha_by_criterion,
    alpha_by_criterion_and_group,
    analyse_by_criterion,
    split_by_criterion,
    stability_by_criterion,
)
from scoring.errors import ScoringInputError
from scoring.items import group_summary, item_summary, rand_disagreement
from scoring.loading import load_ratings
from scoring.ratings import validate_ratings
from scoring.reliability import AlphaResult, alpha, alpha_by_group, alpha_trend
from scoring.report import ITEM_KEYS, item_figures, plain
from scoring.rules import (
    RULE_NAMES,
    MedianIQRRule,
    PercentageRule,
    RandRule,
    Rule,
    rule_from_name,
)
from scoring.scale import Scale, parse_scale
from scoring.stability import stability

__all__ = [
    "ITEM_KEYS",
    "RULE_NAMES",
    "AlphaResult",
    "CriterionAnalysis",
    "MedianIQRRule",
    "PercentageRule",
    "RandRule",
    "Rule",
    "Scale",
    "ScoringInputError",
    "alpha",
    "alpha_by_criterion",
    "alpha_by_criterion_and_group",
    "alpha_by_group",
    "alpha_trend",
    "analyse_by_criterion",
    "group_summary",
    "item_figures",
    "item_summary",
    "load_ratings",
    "parse_scale",
    "plain",
    "rand_disagreement",
    "rule_from_name",
    "split_by_criterion",
    "stability",
    "stability_by_criterion",
    "validate_ratings",
]
