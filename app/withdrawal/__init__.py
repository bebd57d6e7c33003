"""Withdrawing from a study, and the panel's background questions (issue 17)."""
