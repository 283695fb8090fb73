"""Reading ``Retry-After`` (RFC 9110 §10.2.3) where the suite itself waits: its own setup calls against a real target
(``harness``) and the smoke request (``smoke``)."""

from __future__ import annotations

import email.utils
import time

__all__ = ["CAP_S", "retry_after_s"]

CAP_S = 10.0
"""The longest the suite waits for a Retry-After on its own requests before asking again (a run stays bounded)."""


def retry_after_s(value: str | None, now: float | None = None) -> float:
    """Seconds a ``Retry-After`` asks for (delay-seconds or an HTTP-date); 1 s when it is missing or unreadable,
    never negative."""
    if value is None:
        return 1.0
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return 1.0
    return max(0.0, when - (time.time() if now is None else now))
