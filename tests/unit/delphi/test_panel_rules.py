"""The rules behind what panellists are told: decisions (with overrides) and which ratings
stability may compare."""

from __future__ import annotations

from delphi import ConsensusStatus, Decision, decision_for_panel, pair_for_stability


def test_stability_pairs_only_items_rated_in_the_same_version_in_both_rounds():
    pairing = pair_for_stability({1: 10, 2: 20, 3: 30}, {1: 10, 2: 21, 4: 40})
    assert pairing.comparable == frozenset({1})
    assert pairing.reworded == frozenset({2})


def test_an_override_is_not_called_agreed_and_says_what_the_rule_found():
    d = decision_for_panel(
        status=ConsensusStatus.IN.value, suggested="accept", decision="exclude", reason=" Dup "
    )
    assert d.overridden and d.decision is Decision.EXCLUDE
    assert d.label == "Left out by the facilitators"
    assert d.rule_found == "Consensus in, so the rule suggested to accept it."
    assert d.facilitators_decided == "Leave it out, which differs from the rule's suggestion."
    assert d.reason == "Dup"


def test_a_decision_following_the_rule_is_agreed():
    d = decision_for_panel(
        status=None, suggested="carry_forward", decision="carry_forward", reason=""
    )
    assert not d.overridden
    assert d.label == Decision.CARRY_FORWARD.panel_label
    assert d.rule_found == "Nobody rated it, so the rule suggested to carry it forward."
