"""Discussion: a chat-style thread per item and a study-wide channel, live and moderated."""
