"""studies pages."""
