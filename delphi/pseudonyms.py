"""How panellists appear to one another."""

from __future__ import annotations

from delphi.model import PanelRole


def pseudonym(role: PanelRole, group_name: str | None, number: int) -> str:
    """'Patient representative 3', 'CQC partner 2', 'Observer 1'.

    The number counts within the role (and group for partners), so it reveals nothing
    beyond the stakeholder group, which the Delphi feedback shows anyway.
    """
    if role is PanelRole.PARTNER and group_name:
        return f"{group_name} partner {number}"
    return f"{role.label} {number}"
