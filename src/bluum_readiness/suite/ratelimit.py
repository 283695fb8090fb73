"""A rate limiter shared by every process of a run (pytest-xdist workers), so the whole run stays under the
target's limit (the real sandbox allows 10 requests/s per key pair).

The state is one small file holding the *theoretical arrival time* of the next request (GCRA, the
"virtual scheduling" form of a token bucket), updated under an exclusive ``fcntl`` lock. ``reserve()`` takes
the next slot and returns how long to wait for it, so callers sleep outside the lock (``time.sleep`` in the
suite's setup client, ``asyncio.sleep`` in the proxy). The controller creates the file and publishes its
path in ``BLUUM_READINESS_RATE_FILE``; workers inherit the environment and open the same file. The rate is in
the file too: when a real target rate-limits the run anyway (another client shares the key pair's limit),
``slow_down()`` lowers it for every process at once.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import struct
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

__all__ = ["ADJUST_EVERY_S", "ENV_VAR", "MIN_SLOWED_RATE", "RECOVER_FRACTION", "SharedRateLimiter"]

ENV_VAR = "BLUUM_READINESS_RATE_FILE"
# rate (requests/s), theoretical arrival time of the next request, last slow-down, last speed-up (time.time()),
# 429s reported to slow_down, the lowest rate kept
_FORMAT = "<dddddd"
_SIZE = struct.calcsize(_FORMAT)
MIN_SLOWED_RATE = 1.0
"""``slow_down`` never takes the run below one request per second by default (nor raises a rate already below it)."""
ADJUST_EVERY_S = 1.0
"""The rate changes at most once a second each way: the 429s of one burst (answered before a lower rate could show
at the target, whose limit is per second) are one signal, and a slowed run regains ``RECOVER_FRACTION`` of its rate
for each second without one."""
RECOVER_FRACTION = 0.1


class SharedRateLimiter:
    """At most ``rate`` requests per second across every process using ``path`` (bursts of ``burst``)."""

    def __init__(self, path: str | Path, rate: float, burst: int = 1) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.path = Path(path)
        self.rate = rate
        self.burst = burst

    @classmethod
    def create(cls, rate: float, burst: int = 1, directory: str | None = None) -> SharedRateLimiter:
        """A fresh state file in a temp dir (the controller's side); ``path`` goes to the workers."""
        fd, name = tempfile.mkstemp(prefix="bluum-readiness-rate-", suffix=".bin", dir=directory)
        limiter = cls(name, rate, burst)
        os.write(fd, struct.pack(_FORMAT, *limiter._fresh()))
        os.close(fd)
        return limiter

    def _fresh(self) -> list[float]:
        return [self.rate, 0.0, 0.0, 0.0, 0.0, self.rate]

    @contextlib.contextmanager
    def _state(self) -> Iterator[list[float]]:
        """The shared [rate, theoretical arrival time, last slow-down, last speed-up, 429s, lowest rate], under the
        exclusive lock; written back as left."""
        with open(self.path, "r+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                raw = handle.read(_SIZE)
                state = list(struct.unpack(_FORMAT, raw)) if len(raw) == _SIZE else self._fresh()
                yield state
                handle.seek(0)
                handle.write(struct.pack(_FORMAT, *state))
                handle.flush()
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def reserve(self) -> float:
        """Take the next slot; the seconds to wait before sending (0 when a request may go now). A slowed run
        speeds up again (``RECOVER_FRACTION`` of ``rate`` for each quiet ``ADJUST_EVERY_S``)."""
        with self._state() as state:
            rate, tat, slowed, sped = state[:4]
            now = time.time()
            if rate < self.rate and now - max(slowed, sped) >= ADJUST_EVERY_S:
                rate = state[0] = min(self.rate, rate + self.rate * RECOVER_FRACTION)
                state[3] = now
            interval = 1.0 / rate
            tat = max(tat, now)
            wait = max(0.0, tat - (self.burst - 1) * interval - now)
            state[1] = tat + interval
        return wait

    def slow_down(self, factor: float = 0.5, floor: float = MIN_SLOWED_RATE) -> float:
        """Lower the rate every process of the run keeps — the target answered 429 although the run kept under it:
        another client shares the limit — to ``factor`` of what it is (not below ``floor``, at most once every
        ``ADJUST_EVERY_S``); ``reserve`` raises it again while no 429 comes, so two runs sharing a key pair settle
        on about half the limit each (additive increase, multiplicative decrease). Returns the rate now."""
        with self._state() as state:
            now = time.time()
            state[4] += 1
            if now - state[2] >= ADJUST_EVERY_S:
                state[0] = max(min(state[0], state[0] * factor), min(state[0], floor))
                state[2] = now
                state[5] = min(state[5], state[0])
            return state[0]

    def refusals(self) -> tuple[int, float]:
        """How many 429s the run was told of (``slow_down``), and the lowest rate it kept because of them."""
        with self._state() as state:
            return int(state[4]), state[5]

    def acquire(self) -> None:
        """Block until this process may send one request."""
        wait = self.reserve()
        if wait > 0:
            time.sleep(wait)

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)
