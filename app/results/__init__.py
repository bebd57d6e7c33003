"""results pages."""
