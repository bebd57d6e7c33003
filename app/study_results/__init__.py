"""The study across its rounds (facilitators) and each round's feedback (panellists)."""
