"""Text shown to people, made from stored data: the discussion's Markdown subset and times.

Neutral ground: services (which store system messages) and views (which render pages) both
use it, and it imports neither.
"""
