"""Between rounds: revising items, proposals, reminders and completing the study."""
