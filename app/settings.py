"""The deployment settings services use, read through one typed object.

Request data (who acts, their address, links) is passed to services by views and CLI
commands. The few numbers below are settings of the installation, not of a request: a
service reads them here, which needs an application context (views, CLI commands and tests
all have one) but never a request. Read afresh on each call, so a changed configuration
(as tests do) takes effect at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import current_app


@dataclass(frozen=True)
class Settings:
    invitation_days: int
    bootstrap_resamples: int
    # (messages, seconds): how many messages one person may post in that many seconds.
    discussion_rate_limit: tuple[int, int]
    login_max_failures: int
    login_max_per_address: int
    login_account_failures: int
    login_longest_wait: int  # seconds
    login_account_longest_wait: int  # seconds
    # SECRET_KEY, from which invitation links' tokens derive (`app.security.link_token`).
    link_secret: str | bytes = field(repr=False)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Settings:
        limit, seconds = config["DISCUSSION_RATE_LIMIT"]
        return cls(
            invitation_days=int(config["INVITATION_DAYS"]),
            bootstrap_resamples=int(config["BOOTSTRAP_RESAMPLES"]),
            discussion_rate_limit=(int(limit), int(seconds)),
            login_max_failures=int(config["LOGIN_MAX_FAILURES"]),
            login_max_per_address=int(config["LOGIN_MAX_PER_ADDRESS"]),
            login_account_failures=int(config["LOGIN_ACCOUNT_FAILURES"]),
            login_longest_wait=int(config["LOGIN_LONGEST_WAIT"]),
            login_account_longest_wait=int(config["LOGIN_ACCOUNT_LONGEST_WAIT"]),
            link_secret=config["SECRET_KEY"],
        )


def settings() -> Settings:
    """The running application's settings."""
    return Settings.from_config(current_app.config)
