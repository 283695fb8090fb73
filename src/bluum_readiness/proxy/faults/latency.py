"""``latency``: wait, then forward (a slow network or a slow upstream)."""

from __future__ import annotations

from dataclasses import dataclass

from bluum_readiness.proxy.faults.base import Forward, Outcome, ProxyRequest, check_seconds

__all__ = ["LatencyFault"]


@dataclass(frozen=True)
class LatencyFault:
    """Delay the request by ``seconds`` before forwarding it; the response is the upstream's.

    A delay longer than the client's timeout makes it time out while the upstream still commits afterwards.
    """

    seconds: float

    def __post_init__(self) -> None:
        check_seconds("seconds", self.seconds, allow_zero=True)

    async def apply(self, request: ProxyRequest, forward: Forward) -> Outcome:
        await request.sleep(self.seconds)
        return await forward()
