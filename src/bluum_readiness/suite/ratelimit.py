"""A rate limiter shared by every process of a run (pytest-xdist workers), so the whole run stays under the
target's limit (the real sandbox allows 10 requests/s per key pair).

The state is one small file holding the *theoretical arrival time* of the next request (GCRA, the
"virtual scheduling" form of a token bucket), updated under an exclusive ``fcntl`` lock. ``reserve()`` takes
the next slot and returns how long to wait for it, so callers sleep outside the lock (``time.sleep`` in the
suite's setup client, ``asyncio.sleep`` in the proxy). The controller creates the file and publishes its
path in ``BLUUM_READINESS_RATE_FILE``; workers inherit the environment and open the same file.
"""

from __future__ import annotations

import fcntl
import os
import struct
import tempfile
import time
from pathlib import Path

__all__ = ["ENV_VAR", "SharedRateLimiter"]

ENV_VAR = "BLUUM_READINESS_RATE_FILE"
_FORMAT = "<dd"  # rate (requests/s), theoretical arrival time of the next request (time.time())
_SIZE = struct.calcsize(_FORMAT)


class SharedRateLimiter:
    """At most ``rate`` requests per second across every process using ``path`` (bursts of ``burst``)."""

    def __init__(self, path: str | Path, rate: float, burst: int = 1) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.path = Path(path)
        self.rate = rate
        self.interval = 1.0 / rate
        self.tolerance = (burst - 1) * self.interval

    @classmethod
    def create(cls, rate: float, burst: int = 1, directory: str | None = None) -> SharedRateLimiter:
        """A fresh state file in a temp dir (the controller's side); ``path`` goes to the workers."""
        fd, name = tempfile.mkstemp(prefix="bluum-readiness-rate-", suffix=".bin", dir=directory)
        os.write(fd, struct.pack(_FORMAT, rate, 0.0))
        os.close(fd)
        return cls(name, rate, burst)

    def reserve(self) -> float:
        """Take the next slot; the seconds to wait before sending (0 when a request may go now)."""
        with open(self.path, "r+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                raw = handle.read(_SIZE)
                tat = struct.unpack(_FORMAT, raw)[1] if len(raw) == _SIZE else 0.0
                now = time.time()
                tat = max(tat, now)
                wait = max(0.0, tat - self.tolerance - now)
                handle.seek(0)
                handle.write(struct.pack(_FORMAT, self.rate, tat + self.interval))
                handle.flush()
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        return wait

    def acquire(self) -> None:
        """Block until this process may send one request."""
        wait = self.reserve()
        if wait > 0:
            time.sleep(wait)

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)
