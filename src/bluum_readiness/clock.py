"""Clocks, injected wherever time matters so tests never sleep.

``SystemClock`` is the real wall clock; ``ManualClock`` only moves when told to.
"""

from __future__ import annotations

import time
from typing import Protocol

__all__ = ["Clock", "ManualClock", "SystemClock"]


class Clock(Protocol):
    """A source of the current time, in seconds since the Unix epoch (UTC)."""

    def now(self) -> float:
        """Return the current time as a Unix timestamp (float seconds)."""
        ...


class SystemClock:
    """The wall clock."""

    def now(self) -> float:
        return time.time()


class ManualClock:
    """A clock that stands still until ``advance`` or ``set`` moves it (for tests)."""

    def __init__(self, start: float = 1_767_225_600.0) -> None:  # 2026-01-01T00:00:00Z
        self._now = start

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a clock cannot go backwards; pass a non-negative number of seconds")
        self._now += seconds

    def set(self, timestamp: float) -> None:
        self._now = timestamp
