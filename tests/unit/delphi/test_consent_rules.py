"""Who must agree to what before answering (delphi.consent)."""

from __future__ import annotations

import pytest

from delphi import ConsentNeeded, PanelRole, ReasonRequired, check_consented, declare_interests
from delphi.consent import needs_consent


@pytest.mark.parametrize(
    "role,current,agreed,needed",
    [
        (PanelRole.PARTNER, None, None, False),  # no participant information: nothing asked
        (PanelRole.PARTNER, 1, None, True),
        (PanelRole.PATIENT_REP, 1, 1, False),
        (PanelRole.PATIENT_REP, 2, 1, True),  # a new version asks again
        (PanelRole.OBSERVER, 2, None, False),  # observers give no answers
    ],
)
def test_who_must_agree_before_answering(role, current, agreed, needed):
    assert needs_consent(role, current, agreed) is needed


def test_a_new_version_says_the_information_changed():
    with pytest.raises(ConsentNeeded, match="has changed since you agreed"):
        check_consented(PanelRole.PARTNER, 2, 1)


def test_a_declaration_is_none_or_a_text():
    assert declare_interests("none", "ignored").none
    assert declare_interests("some", " Trustee ").text == "Trustee"
    with pytest.raises(ReasonRequired):
        declare_interests("some", "  ")
    with pytest.raises(ReasonRequired):
        declare_interests("", "")
