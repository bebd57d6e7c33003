"""ballot pages."""
