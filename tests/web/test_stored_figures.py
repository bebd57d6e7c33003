"""A closed round's figures are computed once, when it closes, and kept: its results, alpha
and the stability of ratings since the round before. Pages read them and never recompute;
reopening the round discards them; a round closed before stability was stored has it
computed on first reading and kept."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

import app.services.export_data as export_data_module
import app.services.results as results_module
from app.extensions import db
from app.models import Rating, Round, RoundSnapshot, User
from app.services.cycle import stability_between_last_rounds
from app.services.rounds import close_round, reopen_round
from bench.study_builder import Size, build_study
from tests.conftest import sign_in
from tests.web.helpers import get_page, text_of

SIZE = Size(panellists=14, items=6, rounds=3, messages=0)


def _round(study_id: int, number: int) -> Round:
    return db.session.scalar(
        select(Round).where(Round.study_id == study_id, Round.number == number)
    )


def _payload(round_: Round) -> dict | None:
    return db.session.scalar(
        select(RoundSnapshot.payload).where(RoundSnapshot.round_id == round_.id)
    )


def forbid_recomputing(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Fails any reading of a round's ratings into figures (results, alpha, stability)."""
    calls: list[str] = []

    def refuse(round_: Round) -> None:
        calls.append(f"ratings of round {round_.number} read")
        raise AssertionError("a page recomputed a closed round's figures")

    monkeypatch.setattr(results_module, "ratings_frame", refuse)
    monkeypatch.setattr(export_data_module, "raw_ratings", refuse)
    return calls


def test_closing_a_round_stores_its_stability_beside_its_results(app: Flask) -> None:
    built = build_study(db, SIZE, open_last=True)
    payload = _payload(_round(built.study_id, 2))
    stability = payload["stability"]
    assert stability["rounds"] == [1, 2]
    assert len(stability["items"]) == SIZE.items
    assert {"n_paired", "pct_changed_band", "p_value", "stable", "verdict", "in_both"} <= set(
        stability["items"][0]
    )
    assert "alpha" in payload and payload["items"]
    assert _payload(_round(built.study_id, 1))["stability"] is None  # nothing before round 1


def test_facilitator_pages_read_the_stored_figures_and_never_recompute(
    app: Flask, client, monkeypatch: pytest.MonkeyPatch
) -> None:
    built = build_study(db, SIZE, open_last=True)
    no_recomputing = forbid_recomputing(monkeypatch)
    sign_in(client, db.session.get(User, built.facilitator_id))
    get_page(client, f"/studies/{built.slug}")
    across = get_page(client, f"/studies/{built.slug}/results")
    assert "Stability per item, rounds 1 to 2" in text_of(across)
    get_page(client, f"/studies/{built.slug}/export")
    get_page(client, f"/studies/{built.slug}/rounds/2/results")
    complete = get_page(client, f"/studies/{built.slug}/complete")
    assert "Stability between rounds 1 and 2" in text_of(complete)
    assert no_recomputing == []


def test_reopening_a_round_discards_its_figures_and_closing_again_stores_new_ones(
    app: Flask,
) -> None:
    built = build_study(db, Size(panellists=14, items=6, rounds=2), open_last=False)
    round2 = _round(built.study_id, 2)
    before = _payload(round2)["stability"]
    reopen_round(round2.id, "A late panellist", actor=None)
    assert _payload(round2) is None
    # Everyone moves every rating of round 2 to the other end of the scale.
    for rating in db.session.scalars(select(Rating).where(Rating.round_id == round2.id)):
        if rating.score is not None:
            rating.score = 10 - rating.score if rating.score != 5 else 1
    db.session.commit()
    close_round(round2.id, actor=None)
    after = _payload(round2)["stability"]
    assert after["rounds"] == [1, 2]
    assert after != before
    assert not after["all_stable"]


def test_a_round_closed_before_stability_was_stored_gets_it_on_first_reading(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    built = build_study(db, SIZE, open_last=True)
    snapshot = db.session.scalar(
        select(RoundSnapshot).where(RoundSnapshot.round_id == _round(built.study_id, 2).id)
    )
    stored = snapshot.payload["stability"]
    snapshot.payload = {k: v for k, v in snapshot.payload.items() if k != "stability"}
    db.session.commit()
    study = _round(built.study_id, 2).study
    first = stability_between_last_rounds(study)
    assert first is not None and first["rounds"] == (1, 2)
    db.session.expire_all()
    assert _payload(_round(built.study_id, 2))["stability"] == stored

    def refuse(round_: Round) -> None:
        raise AssertionError("computed again")

    monkeypatch.setattr(results_module, "ratings_frame", refuse)
    assert stability_between_last_rounds(study) == first


def test_the_dashboard_and_results_across_rounds_read_summaries_not_whole_results(
    app: Flask, client
) -> None:
    from tests.web.test_query_counts import counting

    built = build_study(db, SIZE, open_last=True)
    summary = db.session.scalar(
        select(RoundSnapshot.summary).where(RoundSnapshot.round_id == _round(built.study_id, 2).id)
    )
    assert set(summary["items"][next(iter(summary["items"]))]) == {
        "item_id",
        "ref",
        "status",
        "median",
        "pct_top",
    }
    assert summary["stability"]["rounds"] == [1, 2]
    sign_in(client, db.session.get(User, built.facilitator_id))
    for url in (f"/studies/{built.slug}", f"/studies/{built.slug}/results"):
        db.session.remove()
        with counting() as statements:
            get_page(client, url)
        assert not [s for s in statements if "round_snapshots.payload" in s], url


def test_a_round_closed_before_summaries_were_kept_gets_one_on_first_reading(
    app: Flask, client
) -> None:
    built = build_study(db, SIZE, open_last=True)
    for snapshot in db.session.scalars(select(RoundSnapshot)):
        snapshot.summary = None
    db.session.commit()
    sign_in(client, db.session.get(User, built.facilitator_id))
    first = text_of(get_page(client, f"/studies/{built.slug}/results"))
    db.session.remove()
    assert all(s is not None for s in db.session.scalars(select(RoundSnapshot.summary)))
    assert text_of(get_page(client, f"/studies/{built.slug}/results")) == first
