"""Every response carries ``X-Request-Id`` (``req_…``); an unexpected exception becomes 500 BLUM-500-001."""

from __future__ import annotations

import logging

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bluum_readiness.twin.errors import ApiError
from bluum_readiness.twin.ids import IdGenerator
from bluum_readiness.twin.middleware._send import send_error

log = logging.getLogger("bluum_readiness.twin")


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp, ids: IdGenerator | None = None) -> None:
        self.app = app
        self.ids = ids or IdGenerator()

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
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unhandled error in %s %s (request %s)", scope.get("method"), scope.get("path"), request_id)
            if started:
                raise
            error = ApiError("BLUM-500-001", f"Internal error; retry, and quote {request_id} if it persists.")
            await send_error(scope, receive, send_with_id, error)
