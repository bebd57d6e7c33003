"""The one exception the scoring package raises for bad input."""

from __future__ import annotations


class ScoringInputError(ValueError):
    """Input the scoring package cannot analyse: the message names the problem and the row.

    The command line turns it into one line on stderr and exit status 2; the web app can show
    the message as it is.
    """
