"""The kept specification (app/services/spec_cache.py, issue 19): built once, and never shown
stale. Every kind of change the specification shows must replace the study's stamp, and the
kept specification must then equal one built afresh; writes it does not show (an existing
responder's autosave, a message) leave the stamp, so autosaves never queue on the study row.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.models import (
    DiscussionMessage,
    Item,
    ItemDecision,
    Rating,
    Round,
    Study,
    Theme,
    utcnow,
)
from app.services import export, spec_cache
from app.services.discussion_writes import ensure_thread
from app.services.ratings import save_rating
from app.services.reporting import ReportingSettings, change_reporting_settings
from app.services.rounds import close_round, open_round, record_decisions
from delphi import Decision
from tests.conftest import Panel, build_panel, sign_in
from tests.web.helpers import get_page, text_of

SLUG = "cached"


def _rate(round_: Round, raters: list[Any], score: int = 8) -> None:
    for ri in round_.round_items:
        for panellist in raters:
            db.session.add(
                Rating(
                    round_id=round_.id,
                    panellist_id=panellist.id,
                    item_version_id=ri.item_version_id,
                    score=score,
                    unable=False,
                )
            )
    db.session.commit()


@pytest.fixture
def in_round_2(app) -> Panel:
    """Round 1 closed and decided (carried forward), round 2 open with two responders."""
    spec_cache.forget()
    panel = build_panel(slug=SLUG)
    round1 = open_round(panel.study, actor=panel.facilitator)
    _rate(round1, panel.raters)
    close_round(round1.id, actor=panel.facilitator)
    rows = db.session.scalars(select(ItemDecision).where(ItemDecision.round_id == round1.id))
    record_decisions(
        round1, {d.item_id: (Decision.CARRY_FORWARD, "Ask again") for d in rows}, panel.facilitator
    )
    round2 = open_round(panel.study, actor=panel.facilitator)
    _rate(round2, panel.raters[:2])
    return panel


def _stamp(study: Study) -> str | None:
    return db.session.scalar(select(Study.content_stamp).where(Study.id == study.id))


def _fresh(study: Study) -> dict[str, Any]:
    return export.build_specification(study)


def _same(kept: dict[str, Any], fresh: dict[str, Any]) -> bool:
    """Equal but for when each was built."""
    return {**kept, "generated_at": None} == {**fresh, "generated_at": None}


def _open_round(panel: Panel) -> Round:
    return next(r for r in panel.study.rounds if r.closed_at is None)


def _first_item(panel: Panel) -> Item:
    return min(panel.study.items, key=lambda i: i.position)


def _rename_study(panel: Panel) -> None:
    panel.study.title = "A renamed study"
    db.session.commit()


def _report_funding(panel: Panel) -> None:
    change_reporting_settings(
        panel.study, ReportingSettings(funding="The Research Council"), actor=panel.facilitator
    )


def _rename_facilitator(panel: Panel) -> None:
    panel.facilitator.name = "Dr Renamed Facilitator"
    db.session.commit()


def _reword_item(panel: Panel) -> None:
    _first_item(panel).current.change_note = "Reworded after round 1"
    db.session.commit()


def _decide_item(panel: Panel) -> None:
    _first_item(panel).decision = Decision.ACCEPT.value
    db.session.commit()


def _pin_summary(panel: Panel) -> None:
    thread = ensure_thread(panel.study.id, _first_item(panel).id)
    thread.summary = "The panel agreed the wording."
    db.session.commit()


def _close_round_2(panel: Panel) -> None:
    close_round(_open_round(panel).id, actor=panel.facilitator)


def _new_responder(panel: Panel) -> None:
    round_ = _open_round(panel)
    save_rating(round_, panel.raters[2], round_.round_items[0].item_version_id, 7, False, "")


def _declare_interests(panel: Panel) -> None:
    rater = panel.raters[0]
    rater.interests, rater.interests_declared_at = "Adviser to a sponsor", utcnow()
    db.session.commit()


def _bulk_rename_theme(panel: Panel) -> None:
    """A bulk UPDATE names no study: every study is restamped."""
    db.session.execute(
        update(Theme).where(Theme.id == _first_item(panel).theme_id).values(name="Renamed theme")
    )
    db.session.commit()


CHANGES: dict[str, Callable[[Panel], None]] = {
    "study settings": _rename_study,
    "reporting settings (service)": _report_funding,
    "a facilitator's name": _rename_facilitator,
    "an item version": _reword_item,
    "an item's decision": _decide_item,
    "a discussion summary": _pin_summary,
    "closing a round (snapshot, decisions)": _close_round_2,
    "a new responder in the open round": _new_responder,
    "declared interests": _declare_interests,
    "a bulk update": _bulk_rename_theme,
}


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_every_kind_of_change_is_shown(in_round_2, change):
    study = in_round_2.study
    before = spec_cache.cached_specification(study)
    stamp = _stamp(study)
    change(in_round_2)
    db.session.expire_all()
    study = db.session.get(Study, study.id)
    kept = spec_cache.cached_specification(study)
    fresh = _fresh(study)
    assert _same(kept, fresh)
    assert not _same(before, fresh), "the change should show in the specification"
    if change is not _new_responder:  # ratings are keyed by who responded, not the stamp
        assert _stamp(study) != stamp


def test_it_is_built_once_until_the_study_changes(in_round_2, monkeypatch):
    built = []
    real = export.build_specification
    monkeypatch.setattr(export, "build_specification", lambda s: built.append(1) or real(s))
    study = in_round_2.study
    first = spec_cache.cached_specification(study)
    assert spec_cache.cached_specification(study) is first
    assert len(built) == 1
    _rename_study(in_round_2)
    assert spec_cache.cached_specification(study)["study"]["title"] == "A renamed study"
    assert len(built) == 2


def test_writes_it_does_not_show_keep_the_stamp(in_round_2):
    """An autosave by a panellist who has rated already, and a message, write no study row."""
    study = in_round_2.study
    kept = spec_cache.cached_specification(study)
    stamp = _stamp(study)
    round_ = _open_round(in_round_2)
    save_rating(round_, in_round_2.raters[0], round_.round_items[1].item_version_id, 3, False, "")
    thread = ensure_thread(study.id, _first_item(in_round_2).id)
    db.session.commit()
    stamp = _stamp(study)  # a new thread may be shown (its summary): the message is not
    db.session.add(
        DiscussionMessage(thread_id=thread.id, author_user_id=in_round_2.facilitator.id, body="Hi")
    )
    db.session.commit()
    assert _stamp(study) == stamp
    assert spec_cache.cached_specification(study) is not None
    assert _same(spec_cache.cached_specification(study), _fresh(study))
    assert kept["study"]["title"] == study.title


def test_a_change_in_one_study_keeps_the_other_kept(in_round_2):
    other = build_panel(slug="other-study")
    stamp = _stamp(other.study)
    _rename_study(in_round_2)
    assert _stamp(other.study) == stamp


def test_the_export_page_shows_a_change_at_once(client, in_round_2):
    sign_in(client, in_round_2.facilitator)
    url = f"/studies/{SLUG}/export"
    assert "The Research Council" not in text_of(get_page(client, url))
    _report_funding(in_round_2)
    assert "The Research Council" in text_of(get_page(client, url))


def test_the_specification_reads_no_table_whose_changes_keep_the_stamp(in_round_2):
    """A table in `UNSHOWN` must stay out of the specification (or leave that list): its
    changes do not replace the stamp. Ratings are read only for who responded, which the key
    holds for open rounds."""
    import re

    from sqlalchemy import event

    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        export.build_specification(in_round_2.study)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert statements
    for table in spec_cache.UNSHOWN:
        reading = [s for s in statements if re.search(rf"\b{table}\b", s)]
        if table == "ratings":
            # Who responded and who finished (counts, in the key for open rounds), and the
            # reasons quoted from closed rounds, whose ratings no longer change.
            assert reading and all(
                "DISTINCT" in s or "count(" in s.lower() or "rounds.closed_at IS NOT NULL" in s
                or "ratings.reason" in s
                for s in reading
            ), reading
        else:
            assert not reading, (table, reading)


def test_a_responder_finishing_the_open_round_is_shown(in_round_2):
    """Who finished the open round is a live figure: rating the last item adds no responder
    and writes no study row, so the key counts the open round's ratings too."""
    study = in_round_2.study
    round_ = _open_round(in_round_2)
    late = in_round_2.raters[2]
    first, *rest = round_.round_items
    save_rating(round_, late, first.item_version_id, 7, False, "")
    before = spec_cache.cached_specification(study)
    for ri in rest:
        save_rating(round_, late, ri.item_version_id, 6, False, "")
    db.session.expire_all()
    study = db.session.get(Study, study.id)
    fresh = _fresh(study)
    assert not _same(before, fresh), "finishing the round should show in the specification"
    assert _same(spec_cache.cached_specification(study), fresh)
