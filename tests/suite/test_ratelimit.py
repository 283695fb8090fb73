"""The shared rate limiter keeps two processes together under a twin's 10 requests/s."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from bluum_readiness.clock import ManualClock
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


def hand_moved(monkeypatch: pytest.MonkeyPatch) -> ManualClock:
    """The limiter's ``time.time()``, moved by hand."""
    clock = ManualClock(1_800_000_000.0)
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=clock.now))
    return clock


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> ManualClock:
    return hand_moved(monkeypatch)


def test_slowing_down_spaces_every_processs_requests_wider(tmp_path: Path, clock: ManualClock) -> None:
    ours = SharedRateLimiter.create(10.0, directory=str(tmp_path))
    another_worker = SharedRateLimiter(ours.path, 10.0)
    assert [round(ours.reserve(), 3), round(ours.reserve(), 3)] == [0.0, 0.1]
    assert another_worker.slow_down() == 5.0
    assert round(ours.reserve(), 3) == 0.2  # the slot the 10/s pace left next; the one after it 1/5 s later
    assert round(ours.reserve(), 3) == 0.4
    assert ours.slow_down() == 5.0, "the 429s of one burst are one signal"
    rates = []
    for _ in range(4):
        clock.advance(ratelimit.ADJUST_EVERY_S)
        rates.append(another_worker.slow_down())
    assert rates == [2.5, 1.25, ratelimit.MIN_SLOWED_RATE, 1.0]
    slow = SharedRateLimiter.create(0.5, directory=str(tmp_path))
    assert slow.slow_down() == 0.5, "a rate already below the floor is kept, not raised"
    ours.remove()
    slow.remove()


def test_a_slowed_run_speeds_up_again_while_no_429_comes(tmp_path: Path, clock: ManualClock) -> None:
    limiter = SharedRateLimiter.create(10.0, directory=str(tmp_path))
    assert limiter.slow_down() == 5.0
    limiter.reserve()
    assert limiter.slow_down() == 5.0  # still within the second
    rates = []
    for _ in range(7):
        clock.advance(ratelimit.ADJUST_EVERY_S)
        limiter.reserve()
        rates.append(round(limiter.slow_down(factor=1.0), 3))  # reads the rate (a factor of 1 changes nothing)
    assert rates == [6.0, 7.0, 8.0, 9.0, 10.0, 10.0, 10.0], "one tenth of the rate a quiet second, up to the rate"
    assert limiter.refusals() == (9, 5.0), "every 429 told counts; the lowest rate kept is remembered"
    limiter.remove()


def test_a_run_slows_down_no_further_than_its_floor(tmp_path: Path, clock: ManualClock) -> None:
    limiter = SharedRateLimiter.create(10.0, directory=str(tmp_path))
    rates = []
    for _ in range(3):
        rates.append(limiter.slow_down(floor=4.0))
        clock.advance(ratelimit.ADJUST_EVERY_S)
    assert rates == [5.0, 4.0, 4.0]
    limiter.remove()


def test_a_sessions_floor_keeps_the_pace_within_half_the_request_timeout(tmp_path: Path) -> None:
    """The integration's requests wait for their slot in the proxy: at 0.5 s request timeouts the run never
    slows below 4 requests/s (a slot every 0.25 s)."""
    from bluum_readiness.config import Thresholds
    from tests.fixtures.real_target import twin_as_real_target

    limiter = SharedRateLimiter.create(10.0, directory=str(tmp_path))
    with twin_as_real_target(thresholds=Thresholds(request_timeout_s=0.5), limiter=limiter) as remote:
        with pytest.MonkeyPatch.context() as mp:
            clock = hand_moved(mp)
            rates = []
            for _ in range(3):
                rates.append(remote._slow_down())
                clock.advance(ratelimit.ADJUST_EVERY_S)
    assert rates == [5.0, 4.0, 4.0]
    limiter.remove()


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
