"""The facilitator's dashboard says how many panellists withdrew, beside the panel figures,
with a link to the Panel page, counted without a statement of its own."""

from __future__ import annotations

from app.extensions import db
from app.services.withdrawal import withdraw
from delphi.withdrawal import AnswersChoice
from tests.web.helpers import get_page, page, text_of
from tests.web.test_query_counts import counting
from tests.web.test_withdrawal import S, _client, _round_one_closed


def test_the_dashboard_says_how_many_withdrew_with_no_statement_of_its_own(app, panel):
    _round_one_closed(app, panel)
    facilitator = _client(app, panel.facilitator)

    def dashboard():
        db.session.expire_all()
        with counting() as statements:
            shown = get_page(facilitator, S)
        return shown, len(statements)

    before, statements_before = dashboard()
    assert page(before).select_one(".app-withdrew") is None
    assert "withdrew" not in text_of(before)

    for leaver, choice in [
        (panel.partners[0], AnswersChoice.KEEP),
        (panel.patients[0], AnswersChoice.REMOVE),
    ]:
        withdraw(leaver, choice, actor=panel.facilitator, by_facilitator=True)
    after, statements_after = dashboard()
    link = page(after).select_one(".app-withdrew")
    assert link is not None and link["href"] == f"{S}/panel"
    assert link.get_text(" ", strip=True).startswith("2 withdrew")
    everyone = len(panel.study.panellists)
    assert f"{everyone} invited, {everyone} joined, 2 withdrew" in text_of(after)
    assert statements_after == statements_before
