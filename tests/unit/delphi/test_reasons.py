"""Who reads which rating reason, how they are grouped, and what the specification quotes."""

from __future__ import annotations

import pytest

from delphi import PanelRole, ReasonRequired, Scale
from delphi.reasons import (
    Reason,
    SortBy,
    Voices,
    by_band,
    check_hide_reason,
    hiding_reason_shown,
    main_arguments,
    sorted_reasons,
    visible_to,
)
from scale_bands import Band

NINE = Scale(1, 9)


def reason(
    rating_id: int,
    score: int | None,
    *,
    group: str = "CQC",
    role: PanelRole = PanelRole.PARTNER,
    author: int = 100,
    hidden: bool = False,
    text: str | None = None,
) -> Reason:
    return Reason(
        rating_id=rating_id,
        item_id=1,
        text=text or f"reason {rating_id}",
        score=score,
        unable=score is None,
        pseudonym=f"{group} partner {rating_id}",
        group=group,
        role=role,
        author_user_id=author,
        hidden=hidden,
        hidden_reason="Names a trust" if hidden else "",
    )


def test_other_panellists_read_reasons_only_of_a_closed_round_and_never_hidden_ones() -> None:
    shown, hidden = reason(1, 8), reason(2, 2, hidden=True)
    assert not visible_to(shown, viewer_user_id=5, is_facilitator=False, round_closed=False)
    assert visible_to(shown, viewer_user_id=5, is_facilitator=False, round_closed=True)
    assert not visible_to(hidden, viewer_user_id=5, is_facilitator=False, round_closed=True)
    assert not visible_to(hidden, viewer_user_id=None, is_facilitator=False, round_closed=True)


def test_the_author_and_facilitators_read_a_hidden_reason_and_why_it_was_hidden() -> None:
    hidden = reason(2, 2, hidden=True, author=7)
    assert visible_to(hidden, viewer_user_id=7, is_facilitator=False, round_closed=True)
    assert visible_to(hidden, viewer_user_id=9, is_facilitator=True, round_closed=False)
    assert hiding_reason_shown(hidden, viewer_user_id=7, is_facilitator=False) == "Names a trust"
    assert hiding_reason_shown(hidden, viewer_user_id=9, is_facilitator=True) == "Names a trust"
    assert hiding_reason_shown(hidden, viewer_user_id=8, is_facilitator=False) is None


def test_hiding_needs_a_reason_the_author_can_read() -> None:
    with pytest.raises(ReasonRequired):
        check_hide_reason("   ")
    with pytest.raises(ReasonRequired):
        check_hide_reason("x" * 2001)
    assert check_hide_reason("  Names a person ") == "Names a person"


def test_reasons_are_grouped_by_the_band_of_their_rating_top_first() -> None:
    rows = [reason(1, 2), reason(2, 9), reason(3, None), reason(4, 5), reason(5, 7)]
    groups = by_band(rows, NINE)
    assert [(g.band, [r.rating_id for r in g.reasons]) for g in groups] == [
        (Band.TOP, [2, 5]),
        (Band.MIDDLE, [4]),
        (Band.BOTTOM, [1]),
        (None, [3]),
    ]
    assert [g.label for g in groups] == [
        "Rated 7-9 (critical, include)",
        "Rated 4-6 (uncertain)",
        "Rated 1-3 (not important, exclude)",
        "Unable to rate",
    ]


def test_bands_follow_the_studys_scale() -> None:
    # On 1-5 the bands are 1-2 / 3 / 4-5: a 4 is in the top band, a 3 in the middle.
    groups = by_band([reason(1, 4), reason(2, 3)], Scale(1, 5))
    assert [(g.band, g.label) for g in groups] == [
        (Band.TOP, "Rated 4-5 (critical, include)"),
        (Band.MIDDLE, "Rated 3 (uncertain)"),
    ]


def test_patient_voices_only_keeps_patient_representatives_and_highlight_puts_them_first() -> None:
    rows = [
        reason(1, 8),
        reason(2, 8, group="Patient representatives", role=PanelRole.PATIENT_REP),
        reason(3, 2),
    ]
    only = by_band(rows, NINE, Voices.PATIENTS)
    assert [[r.rating_id for r in g.reasons] for g in only] == [[2]]
    first = by_band(rows, NINE, Voices.HIGHLIGHT)
    assert [[r.rating_id for r in g.reasons] for g in first] == [[2, 1], [3]]
    assert Voices.parse("nonsense") is Voices.ALL


def test_facilitators_sort_by_band_or_by_group_in_the_studys_order() -> None:
    rows = [reason(1, 2, group="HRA"), reason(2, 5, group="NIHR"), reason(3, 8, group="HRA")]
    order = ["NIHR", "HRA"]
    assert [r.rating_id for r in sorted_reasons(rows, NINE, SortBy.BAND, order)] == [3, 2, 1]
    assert [r.rating_id for r in sorted_reasons(rows, NINE, SortBy.GROUP, order)] == [2, 3, 1]
    assert SortBy.parse("x") is SortBy.BAND


def test_the_specification_quotes_the_summary_when_there_is_one() -> None:
    args = main_arguments("  Split on cost. ", [reason(1, 9)], NINE)
    assert (args.summary, args.for_, args.against) == ("Split on cost.", (), ())


def test_without_a_summary_it_quotes_each_side_one_group_before_a_second() -> None:
    rows = [
        reason(1, 9, group="CQC", text="a"),
        reason(2, 8, group="CQC", text="b"),
        reason(3, 7, group="HRA", text="c"),
        reason(4, 9, group="CQC", text="d", hidden=True),
        reason(5, 5, group="HRA", text="middle"),
        reason(6, 1, group="HRA", text="e"),
    ]
    args = main_arguments("", rows, NINE, per_side=2)
    assert [(q.text, q.group) for q in args.for_] == [("a", "CQC"), ("c", "HRA")]
    assert [q.text for q in args.against] == ["e"]
    assert main_arguments("", [], NINE).empty
