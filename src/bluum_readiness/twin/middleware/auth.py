"""HTTP Basic authentication: API key as user, secret as password; the five BLUM-401 codes."""

from __future__ import annotations

import base64
import binascii

from starlette.types import ASGIApp, Receive, Scope, Send

from bluum_readiness.twin.engine import Twin
from bluum_readiness.twin.errors import ApiError
from bluum_readiness.twin.middleware._send import is_api_path, send_error

PUBLIC_PATHS = frozenset({"/v1/openapi.json"})

_MESSAGES = {
    "BLUM-401-001": "Missing Authorization header; send HTTP Basic auth with your API key and secret.",
    "BLUM-401-002": "Malformed Authorization header; expected 'Basic base64(API_KEY:API_SECRET)'.",
    "BLUM-401-003": "Invalid API key or secret (or the key was revoked).",
    "BLUM-401-004": "This API key is inactive.",
    "BLUM-401-005": "This API key has expired; create a new key pair.",
}


def _refuse(code: str) -> ApiError:
    return ApiError(code, _MESSAGES[code], headers={"WWW-Authenticate": 'Basic realm="Bluum"'})


def parse_basic(header: str | None) -> tuple[str, str] | str:
    """(key, secret) from an Authorization header, or the 401 code explaining why not."""
    if header is None or not header.strip():
        return "BLUM-401-001"
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return "BLUM-401-002"
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return "BLUM-401-002"
    key, sep, secret = decoded.partition(":")
    if not sep or not key or not secret:
        return "BLUM-401-002"
    return key, secret


class AuthMiddleware:
    def __init__(self, app: ASGIApp, twin: Twin) -> None:
        self.app = app
        self.twin = twin

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_api_path(scope["path"]) or scope["path"] in PUBLIC_PATHS:
            await self.app(scope, receive, send)
            return
        header = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                header = value.decode("latin-1")
                break
        parsed = parse_basic(header)
        if isinstance(parsed, str):
            await send_error(scope, receive, send, _refuse(parsed))
            return
        result = self.twin.authenticate(*parsed)
        if isinstance(result, str):
            await send_error(scope, receive, send, _refuse(result))
            return
        if scope["path"].startswith("/_sandbox") and result.scope != "tenant":
            error = ApiError("BLUM-403-001", "Sandbox controls need tenant-wide credentials.")
            await send_error(scope, receive, send, error)
            return
        scope["bluum.principal"] = result
        await self.app(scope, receive, send)
