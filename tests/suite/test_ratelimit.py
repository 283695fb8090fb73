"""The shared rate limiter keeps two processes together under a twin's 10 requests/s."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from bluum_readiness.suite import ratelimit
from bluum_readiness.suite.ratelimit import SharedRateLimiter
from bluum_readiness.twin import TwinServer, TwinSettings

CLIENT = """
import sys, httpx
from bluum_readiness.suite.ratelimit import SharedRateLimiter
path, url, key, secret, n = sys.argv[1:6]
limiter = SharedRateLimiter(path, 10.0)
with httpx.Client(auth=(key, secret), timeout=10) as client:
    for _ in range(int(n)):
        limiter.acquire()
        print(client.get(url + "/assets", params={"limit": 1}).status_code, flush=True)
"""


def test_reserve_spaces_requests_at_the_rate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the clock stands still: on a loaded machine 0.1 s could pass between two reservations (seen once)
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: 1_800_000_000.0))
    limiter = SharedRateLimiter.create(10.0, directory=str(tmp_path))
    waits = [limiter.reserve() for _ in range(5)]
    assert waits[0] == 0.0
    assert [round(b - a, 2) for a, b in zip(waits, waits[1:], strict=False)] == [0.1] * 4
    limiter.remove()
    assert not limiter.path.exists()


def test_two_processes_never_trip_a_10_per_second_limit(tmp_path: Path) -> None:
    """20 requests: twice the twin's burst (its bucket holds 10), so two processes that did not share the limiter
    (each sending its 10 at once) would trip it; shared, they take 1.9 s."""
    n_each = 10
    limiter = SharedRateLimiter.create(10.0, directory=str(tmp_path))
    with TwinServer(TwinSettings.fast(rate_limit_per_s=10.0)) as twin:
        started = time.monotonic()
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", CLIENT, str(limiter.path), twin.base_url, *twin.auth, str(n_each)],
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        outputs = [p.communicate(timeout=60)[0].split() for p in procs]
        elapsed = time.monotonic() - started
    statuses = [s for out in outputs for s in out]
    assert len(statuses) == 2 * n_each
    assert set(statuses) == {"200"}, f"a 429 got through: {statuses}"
    assert 1.85 <= elapsed <= 8.0, f"20 requests at 10/s should take about 2 s, took {elapsed:.1f} s"
