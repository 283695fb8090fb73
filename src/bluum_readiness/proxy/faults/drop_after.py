"""``drop_after``: forward (the upstream commits), then close the connection without any response."""

from __future__ import annotations

from dataclasses import dataclass

from bluum_readiness.proxy.faults.base import Close, Forward, Outcome, ProxyRequest

__all__ = ["DropAfterFault"]


@dataclass(frozen=True)
class DropAfterFault:
    """The upstream did the work; the client immediately sees "server disconnected without a response"."""

    async def apply(self, request: ProxyRequest, forward: Forward) -> Outcome:
        await forward()
        return Close()
