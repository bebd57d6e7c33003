"""The study's audit log, for its facilitators."""
