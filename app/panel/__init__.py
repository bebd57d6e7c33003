"""panel pages."""
