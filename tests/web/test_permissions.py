"""Who can reach what: every route of the app, for every role, in one table.

A route added without a row here fails `test_the_rule_table_covers_every_route`, so nobody
ships a page without deciding who may use it.

The world: "test-study" has round 1 closed (decisions confirmed) and round 2 open, items P1-P3
and I1, a channel message by the first partner (its id stands in for `<msg>`), and panellist 1
(that partner);
"other-study" is run by another facilitator.
"""

from __future__ import annotations

import pytest

from app.extensions import db
from app.services.rounds import close_round, open_round
from tests.conftest import Panel, build_panel, sign_in

ROLES = ["anonymous", "observer", "partner", "patient", "facilitator", "other_facilitator"]
S = "/studies/test-study"
OTHER = "/studies/other-study"

# (method, path, expected status per role in ROLES order)
ROUTES = [
    # public pages and signing in
    ("GET", "/", [302, 302, 302, 302, 302, 302]),
    ("GET", "/healthz", [200, 200, 200, 200, 200, 200]),
    ("GET", "/how-this-works", [200, 200, 200, 200, 200, 200]),
    ("GET", "/help/api", [200, 200, 200, 200, 200, 200]),
    ("GET", "/help/indicators", [200, 200, 200, 200, 200, 200]),
    ("GET", "/login", [200, 200, 200, 200, 200, 200]),
    ("POST", "/login", [422, 422, 422, 422, 422, 422]),
    ("POST", "/logout", [303, 303, 303, 303, 303, 303]),
    ("GET", "/account", [302, 200, 200, 200, 200, 200]),
    ("GET", "/account/two-step", [302, 200, 200, 200, 200, 200]),
    # nothing shown to scan yet: back to the setup page
    ("POST", "/account/two-step", [302, 303, 303, 303, 303, 303]),
    ("POST", "/account/two-step/off", [302, 422, 422, 422, 422, 422]),
    ("POST", "/account/two-step/recovery-codes", [302, 422, 422, 422, 422, 422]),
    # the second step of signing in answers only after a right password or link
    ("GET", "/login/code", [303, 303, 303, 303, 303, 303]),
    ("POST", "/login/code", [303, 303, 303, 303, 303, 303]),
    ("POST", "/account/notifications", [302, 303, 303, 303, 303, 303]),
    # an empty form: the new password is missing (current too, for those who have one)
    ("POST", "/account/password", [302, 422, 422, 422, 422, 422]),
    # one-click unsubscribe: the signed token is the permission (a valid one: test_notifications)
    ("GET", "/unsubscribe/not-a-token", [404, 404, 404, 404, 404, 404]),
    ("POST", "/unsubscribe/not-a-token", [404, 404, 404, 404, 404, 404]),
    ("GET", "/sign-in-link", [200, 200, 200, 200, 200, 200]),
    ("POST", "/sign-in-link", [422, 422, 422, 422, 422, 422]),
    ("GET", "/sign-in/not-a-token", [200, 200, 200, 200, 200, 200]),
    ("POST", "/sign-in/not-a-token", [410, 410, 410, 410, 410, 410]),
    ("GET", "/invitation/not-a-token", [404, 404, 404, 404, 404, 404]),
    ("POST", "/invitation/not-a-token", [404, 404, 404, 404, 404, 404]),
    # studies
    ("GET", "/studies", [302, 200, 200, 200, 200, 200]),
    ("GET", "/studies/new", [302, 403, 403, 403, 200, 200]),
    ("POST", "/studies/new", [302, 403, 403, 403, 422, 422]),
    ("GET", S, [302, 200, 200, 200, 200, 404]),
    ("GET", f"{S}/how-this-works", [302, 200, 200, 200, 200, 404]),
    ("GET", OTHER, [302, 404, 404, 404, 404, 200]),
    # consent and declared interests (observers read but are not asked)
    ("GET", f"{S}/consent", [302, 200, 200, 200, 200, 404]),
    ("POST", f"{S}/consent", [302, 403, 422, 422, 403, 404]),
    ("GET", f"{S}/interests", [302, 403, 200, 200, 403, 404]),
    ("POST", f"{S}/interests", [302, 403, 422, 422, 403, 404]),
    ("GET", f"{S}/participant-information", [302, 403, 403, 403, 200, 404]),
    ("POST", f"{S}/participant-information", [302, 403, 403, 403, 422, 404]),
    ("GET", f"{S}/settings", [302, 403, 403, 403, 200, 404]),
    ("POST", f"{S}/settings", [302, 403, 403, 403, 422, 404]),
    ("POST", f"{S}/retention", [302, 403, 403, 403, 303, 404]),
    ("POST", f"{S}/groups", [302, 403, 403, 403, 422, 404]),
    ("GET", f"{S}/items", [302, 403, 403, 403, 200, 404]),
    ("GET", f"{S}/items/new", [302, 403, 403, 403, 200, 404]),
    ("POST", f"{S}/items/new", [302, 403, 403, 403, 422, 404]),
    ("POST", f"{S}/items/import", [302, 403, 403, 403, 422, 404]),
    ("GET", f"{S}/items/P1/revise", [302, 403, 403, 403, 200, 404]),
    # editing setup: P1 was rated in round 1, CQC has members, round 1 has opened
    ("POST", f"{S}/items/P1/move", [302, 403, 403, 403, 400, 404]),
    ("GET", f"{S}/items/P1/delete", [302, 403, 403, 403, 200, 404]),
    ("POST", f"{S}/items/P1/delete", [302, 403, 403, 403, 409, 404]),
    ("POST", f"{S}/themes/1/move", [302, 403, 403, 403, 400, 404]),
    ("GET", f"{S}/criteria", [302, 403, 403, 403, 200, 404]),
    ("POST", f"{S}/criteria", [302, 403, 403, 403, 422, 404]),
    ("GET", f"{S}/criteria/1", [302, 403, 403, 403, 200, 404]),
    ("POST", f"{S}/criteria/1", [302, 403, 403, 403, 422, 404]),
    ("POST", f"{S}/criteria/1/remove", [302, 403, 403, 403, 409, 404]),
    ("GET", f"{S}/groups/1", [302, 403, 403, 403, 200, 404]),
    ("POST", f"{S}/groups/1", [302, 403, 403, 403, 422, 404]),
    ("GET", f"{S}/groups/1/delete", [302, 403, 403, 403, 200, 404]),
    ("POST", f"{S}/groups/1/delete", [302, 403, 403, 403, 409, 404]),
    ("POST", f"{S}/items/P1/revise", [302, 403, 403, 403, 422, 404]),
    # indicator test data: facilitators upload and choose; panellists read only what is shown
    ("GET", f"{S}/items/I1/testing", [302, 404, 404, 404, 200, 404]),
    ("GET", f"{S}/items/P1/testing", [302, 404, 404, 404, 404, 404]),
    ("POST", f"{S}/items/I1/testing/preview", [302, 403, 403, 403, 422, 404]),
    ("POST", f"{S}/items/I1/testing", [302, 403, 403, 403, 422, 404]),
    ("POST", f"{S}/items/I1/testing/visibility", [302, 403, 403, 403, 404, 404]),
    ("GET", f"{S}/proposals", [302, 200, 200, 200, 200, 404]),
    ("POST", f"{S}/proposals", [302, 422, 422, 422, 403, 404]),
    ("POST", f"{S}/proposals/1/decide", [302, 403, 403, 403, 404, 404]),
    ("GET", f"{S}/complete", [302, 403, 403, 403, 200, 404]),
    ("POST", f"{S}/complete", [302, 403, 403, 403, 422, 404]),
    ("GET", f"{S}/reopen", [302, 403, 403, 403, 200, 404]),
    ("POST", f"{S}/reopen", [302, 403, 403, 403, 422, 404]),
    # panel
    ("GET", f"{S}/panel", [302, 403, 403, 403, 200, 404]),
    ("POST", f"{S}/panel/invite", [302, 403, 403, 403, 422, 404]),
    ("POST", f"{S}/panel/import", [302, 403, 403, 403, 422, 404]),
    ("POST", f"{S}/panel/1/reinvite", [302, 403, 403, 403, 303, 404]),
    ("GET", f"{S}/panel/links.csv", [302, 403, 403, 403, 200, 404]),
    ("GET", f"{S}/panel/1/change", [302, 403, 403, 403, 200, 404]),
    ("POST", f"{S}/panel/1/change", [302, 403, 403, 403, 409, 404]),
    ("GET", f"{S}/panel/1/remove", [302, 403, 403, 403, 200, 404]),
    ("POST", f"{S}/panel/1/remove", [302, 403, 403, 403, 409, 404]),
    # withdrawal (a panellist's own; a facilitator records one) and background questions
    ("GET", f"{S}/withdraw", [302, 200, 200, 200, 403, 404]),
    ("POST", f"{S}/withdraw", [302, 422, 422, 422, 403, 404]),
    ("GET", f"{S}/panel/1/withdraw", [302, 403, 403, 403, 200, 404]),
    ("POST", f"{S}/panel/1/withdraw", [302, 403, 403, 403, 422, 404]),
    ("GET", f"{S}/background-questions", [302, 403, 403, 403, 200, 404]),
    ("POST", f"{S}/background-questions", [302, 403, 403, 403, 422, 404]),
    ("GET", f"{S}/background", [302, 403, 200, 200, 403, 404]),
    ("POST", f"{S}/background", [302, 403, 422, 422, 403, 404]),
    # co-facilitators (facilitator 1 is the study's only one) and two-step sign-in
    ("GET", f"{S}/facilitators", [302, 403, 403, 403, 200, 404]),
    ("POST", f"{S}/facilitators", [302, 403, 403, 403, 422, 404]),
    ("GET", f"{S}/facilitators/1/remove", [302, 403, 403, 403, 200, 404]),
    ("POST", f"{S}/facilitators/1/remove", [302, 403, 403, 403, 409, 404]),
    ("POST", f"{S}/facilitators/two-step", [302, 403, 403, 403, 303, 404]),
    # rounds, ballot, results
    ("POST", f"{S}/rounds/open", [302, 403, 403, 403, 303, 404]),
    ("GET", f"{S}/rounds/1", [302, 403, 403, 403, 200, 404]),
    ("GET", f"{S}/rounds/9", [302, 403, 403, 403, 404, 404]),
    ("GET", f"{S}/rounds/2/close", [302, 403, 403, 403, 200, 404]),
    ("GET", f"{S}/rounds/1/close", [302, 403, 403, 403, 409, 404]),
    ("POST", f"{S}/rounds/2/close", [302, 403, 403, 403, 303, 404]),
    ("POST", f"{S}/rounds/1/close", [302, 403, 403, 403, 409, 404]),
    # round 2 has opened, so round 1 can no longer reopen
    ("POST", f"{S}/rounds/1/reopen", [302, 403, 403, 403, 409, 404]),
    ("GET", f"{S}/rounds/1/ballot", [302, 200, 200, 200, 200, 404]),
    ("GET", f"{S}/rounds/2/ballot", [302, 200, 200, 200, 200, 404]),
    ("POST", f"{S}/rounds/2/ballot", [302, 303, 303, 303, 403, 404]),
    ("POST", f"{S}/rounds/2/items/5/rating", [302, 404, 404, 404, 403, 404]),
    ("POST", f"{S}/rounds/1/items/1/rating", [302, 409, 409, 409, 403, 404]),
    ("GET", f"{S}/rounds/1/results", [302, 403, 403, 403, 200, 404]),
    # real-time snapshots: "test-study" runs in rounds, so freezing is refused
    ("POST", f"{S}/rounds/2/freeze", [302, 403, 403, 403, 409, 404]),
    ("GET", f"{S}/rounds/1/snapshots/1", [302, 403, 403, 403, 404, 404]),
    ("GET", f"{S}/rounds/1/feedback", [302, 200, 200, 200, 200, 404]),
    ("GET", f"{S}/rounds/2/feedback", [302, 200, 200, 200, 200, 404]),
    ("GET", f"{S}/results", [302, 403, 403, 403, 200, 404]),
    # rating reasons: the panel reads them; facilitators review (hide, summarise)
    ("GET", f"{S}/rounds/1/reasons/items/P1", [302, 200, 200, 200, 200, 404]),
    ("GET", f"{S}/rounds/1/reasons/items/NOPE", [302, 404, 404, 404, 404, 404]),
    ("GET", f"{S}/rounds/1/reasons", [302, 403, 403, 403, 200, 404]),
    ("POST", f"{S}/rounds/1/reasons/items/P1/summary", [302, 403, 403, 403, 303, 404]),
    ("GET", f"{S}/rounds/1/reasons/ratings/999/hide", [302, 403, 403, 403, 404, 404]),
    ("POST", f"{S}/rounds/1/reasons/ratings/999/hide", [302, 403, 403, 403, 404, 404]),
    ("POST", f"{S}/rounds/1/reasons/ratings/999/show", [302, 403, 403, 403, 404, 404]),
    # shared with the panel only once the study is completed (and the setting allows)
    ("GET", f"{S}/specification", [302, 403, 403, 403, 403, 404]),
    ("GET", f"{S}/results/items/P1", [302, 403, 403, 403, 200, 404]),
    ("GET", f"{S}/results/items/NOPE", [302, 403, 403, 403, 404, 404]),
    ("POST", f"{S}/rounds/1/decisions", [302, 403, 403, 403, 409, 404]),
    ("GET", f"{S}/rounds/2/responders", [302, 403, 403, 403, 200, 404]),
    ("POST", f"{S}/rounds/2/remind", [302, 403, 403, 403, 303, 404]),
    # discussion
    ("GET", f"{S}/discussion", [302, 200, 200, 200, 200, 404]),
    ("GET", f"{S}/discussion/P1", [302, 200, 200, 200, 200, 404]),
    ("GET", f"{S}/discussion/channel/compose", [302, 303, 303, 303, 303, 404]),
    ("GET", f"{S}/discussion/P1/panel", [302, 303, 303, 303, 303, 404]),
    ("GET", f"{S}/discussion/channel/earlier?before=1", [302, 303, 303, 303, 303, 404]),
    ("GET", f"{S}/discussion/P1/export.csv", [302, 403, 403, 403, 200, 404]),
    ("POST", f"{S}/discussion/channel/messages", [302, 422, 422, 422, 422, 404]),
    ("POST", f"{S}/discussion/channel/read", [302, 303, 303, 303, 303, 404]),
    # every member may follow an item; an empty form says what to send (test_discussion_follow)
    ("POST", f"{S}/discussion/P1/follow", [302, 400, 400, 400, 400, 404]),
    ("POST", f"{S}/discussion/P1/share-reason", [302, 303, 303, 303, 403, 404]),
    ("POST", f"{S}/discussion/P1/summary", [302, 403, 403, 403, 303, 404]),
    ("POST", f"{S}/discussion/P1/lock", [302, 403, 403, 403, 303, 404]),
    ("POST", f"{S}/discussion/P1/unlock", [302, 403, 403, 403, 303, 404]),
    ("POST", f"{S}/discussion/rounds/1/lock", [302, 403, 403, 403, 303, 404]),
    ("POST", f"{S}/discussion/rounds/2/lock", [302, 403, 403, 403, 409, 404]),
    ("GET", f"{S}/discussion/poll", [401, 200, 200, 200, 200, 404]),
    ("GET", f"{S}/discussion/messages/<msg>/edit", [302, 403, 200, 403, 403, 404]),
    ("POST", f"{S}/discussion/messages/<msg>/edit", [302, 422, 422, 422, 422, 404]),
    ("POST", f"{S}/discussion/messages/<msg>/delete", [302, 403, 303, 403, 403, 404]),
    ("GET", f"{S}/discussion/messages/<msg>/hide", [302, 403, 403, 403, 200, 404]),
    ("POST", f"{S}/discussion/messages/<msg>/hide", [302, 403, 403, 403, 422, 404]),
    ("POST", f"{S}/discussion/messages/<msg>/unhide", [302, 403, 403, 403, 303, 404]),
    # export, audit, API
    ("GET", f"{S}/export", [302, 403, 403, 403, 200, 404]),
    ("GET", f"{S}/export/json", [302, 403, 403, 403, 200, 404]),
    ("GET", f"{S}/export/download?format=md", [302, 403, 403, 403, 303, 404]),
    ("GET", f"{S}/export/no-such-format", [302, 403, 403, 403, 404, 404]),
    ("GET", f"{S}/export/md?document=guide", [302, 403, 403, 403, 200, 404]),
    ("GET", f"{S}/export/guide-settings", [302, 403, 403, 403, 200, 404]),
    ("POST", f"{S}/export/guide-settings", [302, 403, 403, 403, 303, 404]),
    ("GET", f"{S}/export/reporting-settings", [302, 403, 403, 403, 200, 404]),
    ("POST", f"{S}/export/reporting-settings", [302, 403, 403, 403, 303, 404]),
    ("GET", f"{S}/audit", [302, 403, 403, 403, 200, 404]),
    ("GET", f"{S}/audit.csv", [302, 403, 403, 403, 200, 404]),
    ("GET", f"{S}/api-tokens", [302, 403, 403, 403, 200, 404]),
    ("POST", f"{S}/api-tokens", [302, 403, 403, 403, 200, 404]),
    # the ideas round (closed, with a question and an idea): all read, panellists who rate
    # add and comment while it is open, facilitators manage and curate
    ("GET", f"{S}/ideas", [302, 200, 200, 200, 200, 404]),
    ("POST", f"{S}/ideas", [302, 403, 422, 422, 403, 404]),
    ("POST", f"{S}/ideas/<idea>/comments", [302, 403, 422, 422, 403, 404]),
    ("POST", f"{S}/ideas/999999/comments", [302, 404, 404, 404, 404, 404]),
    ("GET", f"{S}/ideas/manage", [302, 403, 403, 403, 200, 404]),
    ("POST", f"{S}/ideas/open", [302, 403, 403, 403, 303, 404]),
    ("POST", f"{S}/ideas/close", [302, 403, 403, 403, 303, 404]),
    ("POST", f"{S}/ideas/questions", [302, 403, 403, 403, 422, 404]),
    ("POST", f"{S}/ideas/questions/<question>/delete", [302, 403, 403, 403, 303, 404]),
    ("POST", f"{S}/ideas/questions/999999/delete", [302, 403, 403, 403, 404, 404]),
    ("POST", f"{S}/ideas/curate", [302, 403, 403, 403, 422, 404]),
    # an idea is curated on the ideas page, never answered as a proposal
    ("POST", f"{S}/proposals/<idea>/decide", [302, 403, 403, 403, 404, 404]),
    ("GET", "/api/v1/openapi.json", [200, 200, 200, 200, 200, 200]),
    ("GET", "/api/v1/studies/test-study", [401, 403, 403, 403, 200, 404]),
    ("GET", "/api/v1/studies/test-study/rounds/1/results", [401, 403, 403, 403, 200, 404]),
]


@pytest.fixture
def world(app) -> tuple[Panel, dict, dict]:
    panel = build_panel()
    other = build_panel(slug="other-study", title="Other study", observer=False)
    round1 = open_round(panel.study, actor=panel.facilitator)
    close_round(round1.id, actor=panel.facilitator)
    from app.models import ItemDecision

    for decision in db.session.scalars(db.select(ItemDecision)):
        decision.decided_at = decision.item.created_at
    db.session.commit()
    open_round(panel.study, actor=panel.facilitator)
    poster = app.test_client()
    sign_in(poster, panel.partners[0].user)
    posted = poster.post(
        f"{S}/discussion/channel/messages", data={"channel-body": "A first thought."}
    )
    assert posted.status_code < 400, posted.status_code
    from app.models import DiscussionMessage

    message_id = db.session.scalar(
        db.select(DiscussionMessage.id).where(
            DiscussionMessage.author_user_id == panel.partners[0].user_id
        )
    )
    from app.models import OpenQuestion, Proposal

    question = OpenQuestion(study_id=panel.study.id, text="What should inspectors ask?")
    db.session.add(question)
    db.session.flush()
    idea = Proposal(
        study_id=panel.study.id,
        panellist_id=panel.partners[0].id,
        ideas_round=True,
        question_id=question.id,
        kind="answer",
        text="Ask how patients hear about research.",
    )
    db.session.add(idea)
    panel.study.ideas_status = "closed"
    db.session.commit()
    users = {
        "anonymous": None,
        "observer": panel.observer.user,
        "partner": panel.partners[0].user,
        "patient": panel.patients[0].user,
        "facilitator": panel.facilitator,
        "other_facilitator": other.facilitator,
    }
    return (
        panel,
        users,
        {
            "<msg>": str(message_id),
            "<idea>": str(idea.id),
            "<question>": str(question.id),
        },
    )


# Refusals change nothing, so one world serves all roles of a row; those who may act go last.
RUN_ORDER = ["anonymous", "other_facilitator", "observer", "patient", "partner", "facilitator"]


@pytest.mark.parametrize("method,path,expected", ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_each_role_gets_the_expected_answer(app, world, method, path, expected):
    _, users, ids = world
    answers = {}
    for role in RUN_ORDER:
        client = app.test_client()
        if users[role] is not None:
            sign_in(client, users[role])
        response = client.open(_concrete(path, ids), method=method)
        assert response.status_code < 500, (role, response.get_data(as_text=True)[:500])
        answers[role] = response.status_code
    assert [answers[role] for role in ROLES] == expected


def test_the_rule_table_covers_every_route(app):
    """Every (method, URL rule) of the app is reached by at least one row of the table."""
    adapter = app.url_map.bind("localhost")
    covered = set()
    for method, path, _ in ROUTES:
        concrete = _concrete(path, {"<msg>": "1", "<idea>": "1", "<question>": "1"})
        concrete = concrete.partition("?")[0]
        rule, _ = adapter.match(concrete, method=method, return_rule=True)
        covered.add((method, rule.rule))
    uncovered = [
        f"{method} {rule.rule}"
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
        if (method, rule.rule) not in covered
    ]
    assert uncovered == [], "add a row to ROUTES for each new route"


def _concrete(path: str, ids: dict[str, str]) -> str:
    for placeholder, value in ids.items():
        path = path.replace(placeholder, value)
    return path
