"""Exporting the specification (HTML, Markdown, DOCX, PDF, JSON) and the study's data."""
