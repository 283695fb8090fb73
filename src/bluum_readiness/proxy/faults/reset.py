"""``reset``: reset the connection (TCP RST), before forwarding or after the upstream committed."""

from __future__ import annotations

from dataclasses import dataclass

from bluum_readiness.proxy.faults.base import Abort, Forward, Outcome, ProxyRequest

__all__ = ["ResetFault"]


@dataclass(frozen=True)
class ResetFault:
    """The client sees "connection reset by peer".

    :param after_forward: forward first, so the upstream commits before the reset (default: it never sees it).
    """

    after_forward: bool = False

    async def apply(self, request: ProxyRequest, forward: Forward) -> Outcome:
        if self.after_forward:
            await forward()
        return Abort()
