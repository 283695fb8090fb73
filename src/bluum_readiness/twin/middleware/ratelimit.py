"""Rate limit per key pair: a token bucket (burst = rate, at least 1), 429 BLUM-429-001 with ``Retry-After`` seconds.

Sandbox controls (``/_sandbox``) are operator actions and are not counted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from bluum_readiness.clock import Clock
from bluum_readiness.twin.engine import Principal, Twin
from bluum_readiness.twin.errors import ApiError
from bluum_readiness.twin.middleware._send import send_error


@dataclass
class _Bucket:
    tokens: float
    updated: float


class TokenBuckets:
    """One bucket per key; ``take`` returns 0 when a token was taken, else the seconds until one is available.

    The bucket holds ``rate`` tokens, but never less than one: at 0.5 requests/s it serves one request every 2 s
    (a capacity below one token never let a request through).
    """

    def __init__(self, rate: float, clock: Clock) -> None:
        self.rate = rate
        self.capacity = max(1.0, rate)
        self.clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def take(self, key: str) -> float:
        now = self.clock.now()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(tokens=self.capacity, updated=now)
        bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        if bucket.tokens >= 1.0 - 1e-6:  # tolerate float rounding of large timestamps
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / self.rate


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, twin: Twin) -> None:
        self.app = app
        self.buckets = TokenBuckets(twin.settings.rate_limit_per_s, twin.clock)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        caller: Principal | None = scope.get("bluum.principal")
        if scope["type"] == "http" and caller is not None and not scope["path"].startswith("/_sandbox"):
            wait = self.buckets.take(caller.key_id)
            if wait > 0:
                retry_after = max(1, math.ceil(wait))
                error = ApiError(
                    "BLUM-429-001",
                    f"Rate limit of {self.buckets.rate:g} requests/s per key pair exceeded; "
                    f"retry after {retry_after} s with exponential backoff and jitter.",
                    headers={"Retry-After": str(retry_after)},
                )
                await send_error(scope, receive, send, error)
                return
        await self.app(scope, receive, send)
