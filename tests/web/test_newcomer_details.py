"""Small things a new facilitator met on a first study (issue 13, point 18)."""

from __future__ import annotations

import io

from app.extensions import db
from app.words import count
from tests.conftest import Panel, make_user, sign_in
from tests.web.helpers import get_page, text_of


def test_counts_read_as_english():
    assert [count(n, "item") for n in (0, 1, 2)] == ["0 items", "1 item", "2 items"]
    assert count(1, "person", "people") == "1 person" and count(3, "person", "people") == "3 people"


def test_importing_one_item_says_1_item_imported(client, panel: Panel):
    sign_in(client, panel.facilitator)
    one = "kind,theme,text\nprompt,Offers research,Is research offered in every ward?\n"
    response = client.post(
        "/studies/test-study/items/import",
        data={"file": (io.BytesIO(one.encode()), "items.csv")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "1 item imported." in text_of(response)
    assert "1 items" not in text_of(response)


def test_a_new_facilitator_with_no_study_is_told_how_to_create_one(client, app):
    newcomer = make_user("new-fac@example.test", "New Facilitator", facilitator=True)
    db.session.commit()
    sign_in(client, newcomer)
    shown = text_of(get_page(client, "/studies"))
    assert "Create one" in shown and "invitation link" not in shown


def test_exporting_to_a_folder_that_does_not_exist_says_so_without_a_traceback(app, panel: Panel):
    result = app.test_cli_runner().invoke(
        args=["export", "test-study", "--format", "md", "-o", "/nonexistent/x.md"]
    )
    assert result.exit_code == 1
    assert "Could not write /nonexistent/x.md" in result.output
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)  # a clean exit, not an uncaught error
