"""Indicator test data: upload, funnel plot, and whether panellists see it."""
