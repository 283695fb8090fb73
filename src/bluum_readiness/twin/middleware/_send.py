"""Sending a Bluum error straight from middleware."""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from bluum_readiness.twin.errors import ApiError


async def send_error(scope: Scope, receive: Receive, send: Send, error: ApiError) -> None:
    response = JSONResponse(error.body(), status_code=error.status, headers=error.headers)
    await response(scope, receive, send)


def is_api_path(path: str) -> bool:
    return path.startswith("/v1/") or path == "/v1" or path.startswith("/_sandbox")
