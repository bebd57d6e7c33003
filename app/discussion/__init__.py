"""Discussion: a chat-style thread per item and a study-wide channel, live and moderated.

One blueprint, its views in three modules: `routes` (reading, posting, editing, export,
live polls), `moderation` (facilitators: hide, summarise, lock) and `templating` (the
`ago` filter and what the ballot page embeds). `pages` renders the shared pages and
fragments; `presenters` turns rows into what a viewer may see.
"""

from flask import Blueprint

bp = Blueprint("discussion", __name__, url_prefix="/studies/<slug>/discussion")

from app.discussion import moderation, routes, templating  # noqa: E402, F401 (views register on bp)
