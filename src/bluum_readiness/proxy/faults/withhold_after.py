"""``withhold_after``: forward (the upstream commits), then keep the response back past the client's timeout."""

from __future__ import annotations

from dataclasses import dataclass

from bluum_readiness.proxy.faults.base import Forward, Hold, Outcome, ProxyRequest, check_seconds

__all__ = ["WithholdAfterFault"]


@dataclass(frozen=True)
class WithholdAfterFault:
    """The response is lost on the way back: the upstream did the work, the client times out.

    The case idempotency keys exist for: a retry must carry the same key or the work is done twice.

    :param seconds: how long to hold the connection after the upstream answered, then close it without
        answering; make it longer than the client's timeout.
    """

    seconds: float = 30.0

    def __post_init__(self) -> None:
        check_seconds("seconds", self.seconds, allow_zero=False)

    async def apply(self, request: ProxyRequest, forward: Forward) -> Outcome:
        await forward()
        return Hold(self.seconds)
