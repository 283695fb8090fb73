"""The boundary: Bluum's error responses and httpx's transport exceptions become the ``BluumError`` tree.

The class of an error response comes from its Bluum code (``CODE_CLASSES``, which lists every code of the
catalogue), else from its status (``STATUS_CLASSES``), else ``ServerError`` for 5xx and ``APIError`` for the
rest. Nothing else in the client builds an ``APIError``.
"""

from __future__ import annotations

import email.utils
import time
from typing import Any

import httpx

from bluum_readiness.reference._exceptions import (
    AccountNotApproved,
    APIError,
    AssetNotFound,
    AssetNotTradable,
    AuthenticationError,
    Conflict,
    ConnectionDropped,
    DuplicateResource,
    IdempotencyConflict,
    InsufficientFunds,
    InsufficientPosition,
    InvalidRequest,
    MarketClosed,
    NotFound,
    PermissionDenied,
    RateLimited,
    RequestTimeout,
    ServerError,
    StateConflict,
    TransportError,
    Unprocessable,
    WithdrawalLimitExceeded,
)

__all__ = ["CODE_CLASSES", "STATUS_CLASSES", "error_from_response", "error_from_transport", "parse_retry_after"]


#: Every code of Bluum's error catalogue (bluum-api.md §2.2), and the class it raises.
CODE_CLASSES: dict[str, type[APIError]] = {
    **{f"BLUM-400-00{n}": InvalidRequest for n in range(1, 9)},
    **{f"BLUM-401-00{n}": AuthenticationError for n in range(1, 6)},
    "BLUM-403-001": PermissionDenied,
    "BLUM-403-002": AccountNotApproved,
    "BLUM-403-003": PermissionDenied,
    "BLUM-403-004": PermissionDenied,
    "BLUM-404-001": NotFound,
    "BLUM-404-002": NotFound,
    "BLUM-404-003": AssetNotFound,
    "BLUM-409-001": DuplicateResource,
    "BLUM-409-002": IdempotencyConflict,
    "BLUM-409-003": StateConflict,
    "BLUM-422-001": InsufficientFunds,
    "BLUM-422-002": MarketClosed,
    "BLUM-422-003": AssetNotTradable,
    "BLUM-422-004": InsufficientPosition,
    "BLUM-422-005": WithdrawalLimitExceeded,
    "BLUM-429-001": RateLimited,
    "BLUM-500-001": ServerError,
    "BLUM-500-017": ServerError,
}

#: The fallback for codes Bluum adds later, and for error bodies without a code (e.g. a gateway's HTML page).
STATUS_CLASSES: dict[int, type[APIError]] = {
    400: InvalidRequest,
    401: AuthenticationError,
    403: PermissionDenied,
    404: NotFound,
    409: Conflict,
    422: Unprocessable,
    429: RateLimited,
}


def error_from_response(response: httpx.Response) -> APIError:
    """The boundary: the ``APIError`` for an error response (status >= 400), read from Bluum's envelope."""
    code, message, param = _read_error_body(response)
    status = response.status_code
    cls = CODE_CLASSES.get(code or "") or STATUS_CLASSES.get(status)
    if cls is None:
        cls = ServerError if status >= 500 else APIError
    kwargs: dict[str, Any] = dict(
        status=status,
        code=code,
        param=param,
        request_id=response.headers.get("X-Request-Id"),
        method=response.request.method,
        path=response.request.url.path,
    )
    if issubclass(cls, RateLimited):
        kwargs["retry_after"] = parse_retry_after(response.headers.get("Retry-After"))
    return cls(message, **kwargs)


def error_from_transport(exc: httpx.TransportError, *, method: str, path: str) -> TransportError:
    """The ``TransportError`` for an httpx transport exception (raise it ``from exc``)."""
    detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if isinstance(exc, httpx.TimeoutException):
        return RequestTimeout(f"timed out ({detail})", method=method, path=path)
    if isinstance(exc, httpx.NetworkError | httpx.RemoteProtocolError):
        message = f"no response: the connection failed or was closed ({detail})"
        return ConnectionDropped(message, method=method, path=path)
    return TransportError(detail, method=method, path=path)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """``Retry-After`` in seconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3); None when absent or invalid."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _read_error_body(response: httpx.Response) -> tuple[str | None, str, str | None]:
    """(code, message, param) from ``{"error": {...}}``, the legacy ``{"status": "error", "code", ...}``, or text."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        nested = body.get("error")
        error: dict[str, Any] = nested if isinstance(nested, dict) else body
        code, message, param = error.get("code"), error.get("message"), error.get("param")
        if isinstance(code, str) or isinstance(message, str):
            return (
                code if isinstance(code, str) else None,
                message if isinstance(message, str) else response.reason_phrase,
                param if isinstance(param, str) else None,
            )
    text = response.text.strip()[:200]
    return None, text or response.reason_phrase or f"HTTP {response.status_code}", None
