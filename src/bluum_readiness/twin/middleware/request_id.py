"""Every response carries ``X-Request-Id`` (``req_…``); an unexpected exception becomes 500 BLUM-500-001.

The middleware also counts the responses it sends (``RequestCounts``): the benchmarks read how many API
requests a readiness run makes, which is what a run costs against the real sandbox's rate limit.
"""

from __future__ import annotations

import logging
from collections import Counter

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bluum_readiness.twin.errors import ApiError
from bluum_readiness.twin.ids import IdGenerator
from bluum_readiness.twin.middleware._send import send_error

log = logging.getLogger("bluum_readiness.twin")


class RequestCounts:
    """Responses sent, by area (``api``: under ``/v1``; ``sandbox``: the ``/_sandbox`` controls; ``other``)
    and status code. Updated on the event loop only; ``snapshot`` copies it."""

    def __init__(self) -> None:
        self._counts: Counter[tuple[str, int]] = Counter()

    def add(self, path: str, status: int) -> None:
        area = "api" if path.startswith("/v1") else "sandbox" if path.startswith("/_sandbox") else "other"
        self._counts[(area, status)] += 1

    def snapshot(self) -> dict[str, int]:
        """``{"api": n, "api 429": n, "sandbox": n, …}``: totals per area, and per area and status."""
        out: Counter[str] = Counter()
        for (area, status), n in list(self._counts.items()):
            out[area] += n
            out[f"{area} {status}"] += n
        return dict(sorted(out.items()))


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp, ids: IdGenerator | None = None, counts: RequestCounts | None = None) -> None:
        self.app = app
        self.ids = ids or IdGenerator()
        self.counts = counts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = self.ids.new("req")
        scope["bluum.request_id"] = request_id
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                MutableHeaders(scope=message)["X-Request-Id"] = request_id
                if self.counts is not None:
                    self.counts.add(scope["path"], message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unhandled error in %s %s (request %s)", scope.get("method"), scope.get("path"), request_id)
            if started:
                raise
            error = ApiError("BLUM-500-001", f"Internal error; retry, and quote {request_id} if it persists.")
            await send_error(scope, receive, send_with_id, error)
