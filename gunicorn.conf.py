"""gunicorn settings, read from the working directory by `make serve`, the image and the bench.

The app is loaded once in the master and forked (`preload_app`): importing it (pandas, SciPy)
takes about two seconds, which a worker would otherwise spend before answering its first
request, and again whenever the master replaces a worker that died. Forked workers must not
share the master's database connections, hence `post_fork`.
"""

from __future__ import annotations

import os
from typing import Any

bind = os.environ.get("BIND", "127.0.0.1:5000")
workers = int(os.environ.get("WORKERS", "4"))
threads = int(os.environ.get("THREADS", "4"))
preload_app = True
# Panellists pause to read between autosaves; a connection kept open a little longer than
# that saves a TCP handshake per save, and a reverse proxy keeps its own upstream pool.
keepalive = int(os.environ.get("KEEPALIVE", "10"))
graceful_timeout = int(os.environ.get("GRACEFUL_TIMEOUT", "30"))
# gunicorn 24+ opens a control socket under $HOME by default; nothing here uses it, and two
# servers on one machine (the benchmarks start several) would share its path.
control_socket_disable = True


def post_fork(server: Any, worker: Any) -> None:
    """Give each worker its own database connections (SQLAlchemy's advice for fork)."""
    application = worker.app.wsgi()
    extension = getattr(application, "extensions", {}).get("sqlalchemy")
    if extension is None:
        return
    with application.app_context():
        for engine in extension.engines.values():
            engine.dispose(close=False)
