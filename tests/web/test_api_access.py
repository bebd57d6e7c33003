"""The JSON API tells nobody which studies exist.

Whoever cannot use a study's API gets the same status and body for it as for a study that
does not exist, so the API cannot be used to find out which studies there are or who runs
them (as on the web pages, where an outsider gets 404).
"""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models import ApiToken
from app.security import new_token
from app.services.rounds import close_round, open_round
from tests.conftest import build_panel, make_user, sign_in

REAL = "test-study"
MADE_UP = "no-such-study"
PATHS = ["/api/v1/studies/{slug}", "/api/v1/studies/{slug}/rounds/1/results"]

# caller -> the status both studies answer
CALLERS = {
    "no token": 401,
    "a bad token": 401,
    "the token of another study": 401,
    "a signed-in outsider": 404,
}


@pytest.fixture
def world(app) -> dict[str, str]:
    """'test-study' with round 1 closed; 'other-study' with an API token; an outsider."""
    panel = build_panel(slug=REAL)
    close_round(open_round(panel.study, actor=panel.facilitator).id, actor=panel.facilitator)
    other = build_panel(slug="other-study", observer=False)
    raw, digest = new_token()
    db.session.add(ApiToken(study_id=other.study.id, token_hash=digest, label="other"))
    make_user("outsider@example.test", "Out Sider")
    db.session.commit()
    return {"other token": raw}


def _ask(app, world, caller: str, url: str):
    client = app.test_client()
    headers = {}
    if caller == "a bad token":
        headers["Authorization"] = "Bearer not-a-real-token"
    elif caller == "the token of another study":
        headers["Authorization"] = f"Bearer {world['other token']}"
    elif caller == "a signed-in outsider":
        from app.models import User

        sign_in(client, db.session.scalar(db.select(User).filter_by(email="outsider@example.test")))
    return client.get(url, headers=headers)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("caller", list(CALLERS))
def test_a_real_study_and_a_made_up_one_answer_alike_to_whoever_cannot_use_it(
    app, world, caller, path
):
    real = _ask(app, world, caller, path.format(slug=REAL))
    made_up = _ask(app, world, caller, path.format(slug=MADE_UP))
    assert (real.status_code, real.json) == (made_up.status_code, made_up.json)
    assert real.status_code == CALLERS[caller]
    assert real.json["status"] == CALLERS[caller] and real.json["error"]


@pytest.mark.parametrize("path", PATHS)
def test_the_study_s_facilitator_reads_it_and_its_panellists_are_told_why_not(app, world, path):
    from app.models import Study

    study = db.session.scalar(db.select(Study).filter_by(slug=REAL))
    facilitator = app.test_client()
    sign_in(facilitator, study.facilitators[0].user)
    assert facilitator.get(path.format(slug=REAL)).status_code == 200
    panellist = app.test_client()
    sign_in(panellist, study.panellists[0].user)
    refused = panellist.get(path.format(slug=REAL))
    assert refused.status_code == 403 and "facilitators" in refused.json["error"]


def test_a_token_reads_its_own_study(app, world):
    headers = {"Authorization": f"Bearer {world['other token']}"}
    study = app.test_client().get("/api/v1/studies/other-study", headers=headers)
    assert study.status_code == 200 and study.json["slug"] == "other-study"
