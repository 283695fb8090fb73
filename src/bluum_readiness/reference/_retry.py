"""The retry policy: what is retried, how long to wait, how many times. The loop itself is tenacity's.

Retried: 429, 500, 502, 503 and 504 answers, timeouts and dropped connections: failures that may well succeed
next time. Never retried: any other 4xx (the same request fails the same way again; 401 has its own single
credential refresh in ``_auth``), and transport errors that mean our own bug (an unsupported URL, say).

Waits are capped exponential backoff with **full jitter**: before retry ``n`` (0 for the first retry) the
client sleeps ``uniform(0, min(cap_s, base_s * 2**n))``. The jitter spreads many clients that failed together
over the window instead of retrying in lockstep. After a 429 with ``Retry-After`` the wait is at least what
the server asked for, capped at ``retry_after_cap_s``.

Every retry of an operation re-sends the same request, Idempotency-Key included, so a retry after a lost
response replays the original instead of moving money twice (see ``_client``).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import tenacity

from bluum_readiness.reference._exceptions import APIError, ConnectionDropped, RateLimited, RequestTimeout

__all__ = ["RETRYABLE_STATUSES", "RetryPolicy", "call_with_retries"]

T = TypeVar("T")

#: HTTP statuses worth another attempt.
RETRYABLE_STATUSES: frozenset[int] = frozenset({429, 500, 502, 503, 504})

logger = logging.getLogger("bluum_readiness.reference.retry")


@dataclass(frozen=True)
class RetryPolicy:
    """How hard the client tries. All durations are in seconds.

    :param max_attempts: attempts per operation, the first included (so at most ``max_attempts - 1`` retries).
    :param base_s: the backoff window before the first retry; it doubles for each further retry.
    :param cap_s: the largest backoff window.
    :param timeout_s: the per-request timeout (connect, write, read, pool), each attempt on its own.
    :param honour_retry_after: on 429, wait at least the ``Retry-After`` the server sent.
    :param retry_after_cap_s: the most we wait for a ``Retry-After``, however long the server asks for.
    """

    max_attempts: int = 5
    base_s: float = 0.25
    cap_s: float = 8.0
    timeout_s: float = 10.0
    honour_retry_after: bool = True
    retry_after_cap_s: float = 30.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts={self.max_attempts} must be >= 1 (1 means no retries)")
        for name in ("base_s", "cap_s", "retry_after_cap_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name}={getattr(self, name)} must be >= 0 seconds")
        if self.timeout_s <= 0:
            raise ValueError(f"timeout_s={self.timeout_s} must be > 0 seconds")

    def should_retry(self, exc: BaseException) -> bool:
        """Whether another attempt may succeed where this one failed."""
        if isinstance(exc, APIError):
            return exc.status in RETRYABLE_STATUSES
        return isinstance(exc, RequestTimeout | ConnectionDropped)

    def backoff(self, retry: int, rng: random.Random) -> float:
        """Full jitter: ``uniform(0, min(cap_s, base_s * 2**retry))``; ``retry`` is 0 before the first retry."""
        window = min(self.cap_s, self.base_s * 2.0 ** min(retry, 64))
        return rng.uniform(0.0, window)

    def wait(self, retry: int, exc: BaseException | None, rng: random.Random) -> float:
        """The sleep before retry ``retry`` after ``exc``: the backoff, or a longer (capped) ``Retry-After``."""
        delay = self.backoff(retry, rng)
        if self.honour_retry_after and isinstance(exc, RateLimited) and exc.retry_after is not None:
            delay = max(delay, min(exc.retry_after, self.retry_after_cap_s))
        return delay


def call_with_retries(
    attempt: Callable[[], T], policy: RetryPolicy, *, rng: random.Random, sleep: Callable[[float], None]
) -> T:
    """Run ``attempt`` until it returns, raises a non-retryable error, or ``max_attempts`` are spent (then the
    last error is raised as it is, not wrapped)."""

    def wait(state: tenacity.RetryCallState) -> float:
        return policy.wait(state.attempt_number - 1, _failure(state), rng)

    def log_retry(state: tenacity.RetryCallState) -> None:
        delay = state.next_action.sleep if state.next_action else 0.0
        logger.info(
            "retrying in %.3f s (attempt %d of %d failed: %s)",
            delay,
            state.attempt_number,
            policy.max_attempts,
            _failure(state),
        )

    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(policy.max_attempts),
        retry=tenacity.retry_if_exception(policy.should_retry),
        wait=wait,
        sleep=sleep,
        before_sleep=log_retry,
        reraise=True,
    )
    return retrying(attempt)


def _failure(state: tenacity.RetryCallState) -> BaseException | None:
    return state.outcome.exception() if state.outcome is not None else None
