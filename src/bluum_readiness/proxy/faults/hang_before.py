"""``hang_before``: never forward; keep the connection silent past the client's timeout, then close it."""

from __future__ import annotations

from dataclasses import dataclass

from bluum_readiness.proxy.faults.base import Forward, Hold, Outcome, ProxyRequest, check_seconds

__all__ = ["HangBeforeFault"]


@dataclass(frozen=True)
class HangBeforeFault:
    """The request is lost on the way: the client waits and times out; the upstream never sees it.

    :param seconds: how long to hold the connection before closing it; make it longer than the client's
        timeout (a client that waits longer sees the connection closed with no response).
    """

    seconds: float = 30.0

    def __post_init__(self) -> None:
        check_seconds("seconds", self.seconds, allow_zero=False)

    async def apply(self, request: ProxyRequest, forward: Forward) -> Outcome:
        return Hold(self.seconds)
