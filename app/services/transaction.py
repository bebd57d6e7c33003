"""One service call, one transaction: the only place that commits or rolls back.

A service that writes is marked `@transactional` (or opens `with unit_of_work():`). When it
returns, everything it wrote, and the audit events describing it, are committed together;
when it raises, a domain error included, all of it is rolled back. A transactional service
called from inside another joins the caller's transaction, so the outermost call decides.
Views and CLI commands never commit: they call services. See docs/architecture.md.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

from sqlalchemy import select

from app.extensions import db

P = ParamSpec("P")
T = TypeVar("T")

_DEPTH = "unit_of_work_depth"


@contextmanager
def unit_of_work(*, expire: bool = True) -> Iterator[None]:
    """Commit on leaving, roll back on an exception; nested units join the outermost.

    `expire=False` keeps loaded objects as they are after the commit, for a caller that
    wrote only through Core statements and reads the loaded rows again (the rating autosave).
    """
    session = db.session()
    depth = session.info.get(_DEPTH, 0)
    session.info[_DEPTH] = depth + 1
    try:
        yield
    except BaseException:
        session.info[_DEPTH] = depth
        if depth == 0:
            session.rollback()
        raise
    session.info[_DEPTH] = depth
    if depth:
        return
    if expire:
        session.commit()
        return
    saved, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    finally:
        session.expire_on_commit = saved


def transactional(service: Callable[P, T]) -> Callable[P, T]:
    """Run the service as one unit of work."""

    @functools.wraps(service)
    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        with unit_of_work():
            return service(*args, **kwargs)

    return run


def database_answers() -> bool:
    """Whether the database answers a trivial query (for load balancers' health checks)."""
    try:
        with unit_of_work():
            db.session.execute(select(1))
    except Exception:  # noqa: BLE001 - any database failure means "unhealthy"
        return False
    return True
