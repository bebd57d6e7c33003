"""Read-only JSON for facilitators' tools: a signed-in facilitator or a per-study API token."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

from app.access import facilitated_study, membership, round_of
from app.extensions import db
from app.htmx import render
from app.inputs import form_text, int_arg
from app.models import ApiToken, ItemDecision, Study
from app.security import token_hash
from app.services import api_tokens
from app.services.cycle import stability_between_last_rounds
from app.services.results import rule_description, snapshot_of

bp = Blueprint("api", __name__)


NO_STUDY = "There is no study at this address that you can see."


def _api_study(slug: str) -> Study:
    """The study, if the caller facilitates it or presents one of its live tokens.

    Whoever may not read a study gets the answer a made-up study gets, so the API does not
    tell who holds which study: a missing or bad token, or another study's, 401 with the
    same message; a signed-in outsider 404, as on the web pages. Only the study's own
    panellists, who know it exists, are told 403.
    """
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        # Token and study in one lookup: a token that does not open this study is refused
        # alike whether or not the study exists.
        study: Study | None = db.session.scalar(
            select(Study)
            .join(ApiToken, ApiToken.study_id == Study.id)
            .where(
                Study.slug == slug,
                ApiToken.token_hash == token_hash(header.removeprefix("Bearer ").strip()),
                ApiToken.revoked_at.is_(None),
            )
        )
        if study is None:
            abort(401, description="The API token is not valid for this study.")
        return study
    if not current_user.is_authenticated:
        abort(401, description="Sign in as a facilitator or send 'Authorization: Bearer TOKEN'.")
    try:
        member = membership(slug)
    except NotFound:
        abort(404, description=NO_STUDY)
    if not member.is_facilitator:
        abort(403, description="Only the study's facilitators can use its API.")
    return member.study


OPENAPI = Path(__file__).with_name("openapi.json")


@functools.cache
def _openapi_bytes() -> bytes:
    return OPENAPI.read_bytes()


@bp.get("/api/v1/openapi.json")
def openapi() -> Response:
    """The API's OpenAPI 3.1 description; public, like any API's documentation."""
    return current_app.response_class(_openapi_bytes(), mimetype="application/json")


@bp.get("/api/v1/studies/<slug>")
def study(slug: str) -> Response:
    study = _api_study(slug)
    body: dict[str, Any] = {
        "slug": study.slug,
        "title": study.title,
        "purpose": study.purpose,
        "status": study.status,
        "mode": study.mode,
        "scale": [study.scale_min, study.scale_max],
        "rule": {
            "name": study.rule,
            "description": rule_description(study),
            "pct_in": study.pct_in,
            "pct_out_max": study.pct_out_max,
            "max_iqr": study.max_iqr,
            "require_all_groups": study.require_all_groups,
        },
        "max_rounds": study.max_rounds,
        "stop_reason": study.stop_reason or None,
        "criteria": [
            {
                "id": c.id,
                "name": c.name,
                "question": c.question,
                "applies_to": sorted(k.value for k in c.kinds),
            }
            for c in study.criteria
        ],
        "groups": [g.name for g in study.groups],
        "themes": [t.name for t in study.themes],
        "items": [
            {
                "ref": item.ref,
                "kind": item.kind,
                "theme": item.theme.name,
                "version": item.current.number,
                "text": item.current.text,
                "decision": item.decision,
            }
            for item in study.items
        ],
        "rounds": [
            {
                "number": r.number,
                "status": r.status,
                "items": len(r.round_items),
                "opened_at": r.opened_at.isoformat() if r.opened_at else None,
                "closes_at": r.closes_at.isoformat() if r.closes_at else None,
                "closed_at": r.closed_at.isoformat() if r.closed_at else None,
                "results": url_for("api.round_results", slug=study.slug, number=r.number),
            }
            for r in study.rounds
        ],
        "stability": _stability(study),
    }
    return jsonify(body)


def _stability(study: Study) -> dict[str, Any] | None:
    """Between the last two closed rounds; an item reworded between them is not compared."""
    result = stability_between_last_rounds(study)
    if result is None:
        return None
    refs = {i.id: i.ref for i in study.items}
    order = {i.id: n for n, i in enumerate(study.items)}
    first, second = result["rounds"]
    return {
        "from_round": first,
        "to_round": second,
        "items": [
            {
                "ref": refs[row["item_id"]],
                "n_paired": int(row["n_paired"] or 0),
                "pct_changed_band": _number(row["pct_changed_band"]),
                "p_value": _number(row["p_value"]),
                "stable": None if row["stable"] is None else bool(row["stable"]),
                "verdict": row["verdict"],
                "wording_changed": bool(row.get("wording_changed")),
                **(
                    {"criteria": [_stability_figures(c) for c in row["criteria"]]}
                    if row.get("criteria")
                    else {}
                ),
            }
            for row in sorted(result["items"], key=lambda r: order.get(r["item_id"], len(order)))
        ],
    }


def _stability_figures(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "criterion": row["criterion"],
        "n_paired": int(row["n_paired"] or 0),
        "pct_changed_band": _number(row["pct_changed_band"]),
        "p_value": _number(row["p_value"]),
        "stable": None if row["stable"] is None else bool(row["stable"]),
        "verdict": row["verdict"],
    }


def _number(value: Any) -> float | None:
    if value is None or value != value:  # None or NaN
        return None
    return float(value)


@bp.get("/api/v1/studies/<slug>/rounds/<int:number>/results")
def round_results(slug: str, number: int) -> Response:
    study = _api_study(slug)
    round_ = round_of(study, number)
    snapshot = snapshot_of(round_)
    if snapshot is None:
        abort(409, description=f"Round {number} is still open: results appear when it closes.")
    decisions = {
        d.item_id: {
            "suggested": d.suggested,
            "decision": d.decision,
            "reason": d.reason,
            "confirmed": d.decided_at is not None,
        }
        for d in db.session.scalars(select(ItemDecision).where(ItemDecision.round_id == round_.id))
    }
    items = []
    for entry in snapshot["items"].values():
        items.append({**entry, "decision": decisions.get(entry["item_id"])})
    return jsonify(
        {
            **snapshot,
            "items": items,
            "closed_at": round_.closed_at.isoformat() if round_.closed_at else None,
        }
    )


@bp.route("/studies/<slug>/api-tokens", methods=["GET", "POST"])
@login_required
def tokens(slug: str) -> Response:
    study = facilitated_study(slug)
    token = None
    if request.method == "POST":
        if request.form.get("revoke"):
            row = api_tokens.token_of(study, int_arg("revoke", form=True))
            if row is None:
                abort(404, description="That token is not one of this study's tokens.")
            api_tokens.revoke_token(row, current_user)
            flash("Token revoked.", "success")
            return redirect(url_for("api.tokens", slug=slug), 303)
        token = api_tokens.create_token(study, form_text("label"), current_user)
    rows = api_tokens.tokens_of(study)
    return render("cycle/api_tokens.html", study=study, tokens=rows, new_token=token)
