"""The open ideas round before rating: open questions, ideas, comments and curation."""
