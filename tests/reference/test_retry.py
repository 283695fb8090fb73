"""Retries over httpx.MockTransport with a recording sleep and a seeded rng: what is retried, how long the client
waits (full jitter, growing, capped, Retry-After), and that attempts are bounded."""

from __future__ import annotations

import random
import statistics
from typing import Any

import httpx
import pytest

from bluum_readiness.reference import (
    AuthenticationError,
    Conflict,
    ConnectionDropped,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    RateLimited,
    RequestTimeout,
    RetryPolicy,
    ServerError,
    Unprocessable,
)
from tests.reference._doubles import error, rig


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_retryable_statuses_are_retried_until_success(status):
    r = rig(status, status)
    deposit = r.client.create_deposit("inv_1", "10.00", funding_source_id="fs_1")
    assert deposit["id"].startswith("dep_")
    assert len(r.script.requests) == 3 and len(r.sleeps) == 2


@pytest.mark.parametrize(
    ("raised", "cls"),
    [
        (httpx.ReadTimeout("timed out"), RequestTimeout),
        (httpx.ConnectTimeout("timed out"), RequestTimeout),
        (httpx.RemoteProtocolError("Server disconnected without sending a response."), ConnectionDropped),
        (httpx.ReadError("[Errno 104] Connection reset by peer"), ConnectionDropped),
    ],
)
def test_timeouts_and_dropped_connections_are_retried(raised, cls):
    r = rig(raised)
    assert r.client.get_investor("inv_1")["id"]
    assert len(r.script.requests) == 2
    persistent = rig(*[raised] * 9, max_attempts=3)
    with pytest.raises(cls) as caught:
        persistent.client.get_investor("inv_1")
    assert isinstance(caught.value.__cause__, type(raised))
    assert len(persistent.script.requests) == 3


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, InvalidRequest),
        (403, PermissionDenied),
        (404, NotFound),
        (409, Conflict),
        (422, Unprocessable),
        (501, ServerError),
    ],
)
def test_other_errors_are_not_retried(status, cls):
    r = rig(status)
    with pytest.raises(cls):
        r.client.create_deposit("inv_1", "10.00", funding_source_id="fs_1")
    assert len(r.script.requests) == 1 and r.sleeps == []


def test_a_persistent_401_is_not_retried_after_the_one_refresh():
    r = rig(*[401] * 9)
    with pytest.raises(AuthenticationError):
        r.client.create_deposit("inv_1", "10.00", funding_source_id="fs_1")
    assert len(r.script.requests) == 2  # the request, and one retry after re-reading the credentials


@pytest.mark.parametrize("max_attempts", [1, 3, 5])
def test_attempts_are_bounded_by_max_attempts(max_attempts):
    r = rig(*[503] * 20, max_attempts=max_attempts)
    with pytest.raises(ServerError) as caught:
        r.client.create_deposit("inv_1", "10.00", funding_source_id="fs_1")
    assert caught.value.status == 503  # the last error, as it is (not wrapped)
    assert len(r.script.requests) == max_attempts and len(r.sleeps) == max_attempts - 1


def _waits(seed: int, failures: int = 4, **policy: Any) -> list[float]:
    r = rig(*[429] * failures, seed=seed, max_attempts=failures + 1, **policy)
    r.client.get_investor("inv_1")
    return list(r.sleeps)


def test_waits_grow_on_average():
    trials = [_waits(seed) for seed in range(300)]
    means = [statistics.fmean(t[i] for t in trials) for i in range(4)]
    assert means == sorted(means)
    # Full jitter over windows of 0.25, 0.5, 1 and 2 s: the mean is half of each window.
    assert means == pytest.approx([0.125, 0.25, 0.5, 1.0], rel=0.15)


def test_waits_are_jittered_not_identical_across_seeds():
    trials = [_waits(seed) for seed in range(10)]
    for retry in range(4):
        assert len({round(t[retry], 9) for t in trials}) == 10
    assert _waits(7) == _waits(7)  # the same seed replays the same waits


def test_waits_are_full_jitter_within_the_capped_window():
    policy = RetryPolicy(base_s=1.0, cap_s=3.0)
    rng = random.Random(1)
    for retry in range(10):
        window = min(3.0, 2.0**retry)
        samples = [policy.backoff(retry, rng) for _ in range(200)]
        assert all(0 <= s <= window for s in samples)
        assert min(samples) < window * 0.1 and max(samples) > window * 0.9  # the whole window, from zero


def test_waits_respect_the_cap():
    waits = _waits(3, failures=8, base_s=1.0, cap_s=2.0)
    assert len(waits) == 8 and max(waits) <= 2.0


def test_retry_after_is_honoured():
    r = rig(error(429, retry_after="3"), seed=1)
    r.client.get_investor("inv_1")
    assert r.sleeps == [3.0]  # max(jitter within 0.25 s, Retry-After)


def test_retry_after_is_capped():
    r = rig(error(429, retry_after="3600"), retry_after_cap_s=30.0)
    r.client.get_investor("inv_1")
    assert r.sleeps == [30.0]


def test_retry_after_can_be_ignored():
    r = rig(error(429, retry_after="3"), honour_retry_after=False)
    r.client.get_investor("inv_1")
    assert len(r.sleeps) == 1 and r.sleeps[0] <= 0.25


def test_a_longer_backoff_wins_over_a_short_retry_after():
    policy = RetryPolicy(base_s=10.0, cap_s=10.0)
    exc = RateLimited("slow down", status=429, retry_after=0.0)
    assert policy.wait(0, exc, random.Random(5)) == random.Random(5).uniform(0, 10.0)


def test_a_persistent_429_ends_in_rate_limited():
    r = rig(*[error(429, retry_after="1")] * 10, max_attempts=4)
    with pytest.raises(RateLimited) as caught:
        r.client.get_investor("inv_1")
    assert caught.value.retry_after == 1.0 and caught.value.request_id
    assert r.sleeps == [1.0, 1.0, 1.0]


def test_the_request_timeout_is_the_policys():
    r = rig(timeout_s=0.75)
    r.client.get_investor("inv_1")
    assert r.script.requests[0].extensions["timeout"] == {"connect": 0.75, "read": 0.75, "write": 0.75, "pool": 0.75}


@pytest.mark.parametrize(
    "bad", [{"max_attempts": 0}, {"base_s": -1.0}, {"cap_s": -0.1}, {"timeout_s": 0.0}, {"retry_after_cap_s": -1.0}]
)
def test_nonsense_policies_are_refused(bad):
    with pytest.raises(ValueError, match=next(iter(bad))):
        RetryPolicy(**bad)
