"""Co-facilitators of a study and the study's two-step sign-in requirement."""
