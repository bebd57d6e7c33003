"""Participant information, consent and declared interests."""
