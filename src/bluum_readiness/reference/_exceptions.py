"""Exceptions of the reference client, shaped like httpx's: one tree, and one place that builds them.

::

    BluumError                              anything the client raises
     ├── TransportError                     no usable HTTP response; the httpx exception is the __cause__
     │    ├── RequestTimeout                connect, write, read or pool timeout; retried
     │    └── ConnectionDropped             refused, reset, or closed before a response; retried
     └── APIError                           Bluum answered with an error: status, code, message, param, request_id
          ├── InvalidRequest                400 BLUM-400-*
          ├── AuthenticationError           401 BLUM-401-*, after the one credential refresh
          ├── PermissionDenied              403 BLUM-403-*
          │    └── AccountNotApproved       403 BLUM-403-002: the investor is not active yet
          ├── NotFound                      404 BLUM-404-*
          │    └── AssetNotFound            404 BLUM-404-003: unknown symbol
          ├── Conflict                      409 BLUM-409-*
          │    ├── DuplicateResource        409 BLUM-409-001: e.g. the email is taken
          │    ├── IdempotencyConflict      409 BLUM-409-002: the key was used with another body
          │    └── StateConflict            409 BLUM-409-003: wrong state, or the original is in flight
          ├── Unprocessable                 422 BLUM-422-*
          │    ├── InsufficientFunds        422 BLUM-422-001
          │    ├── MarketClosed             422 BLUM-422-002
          │    ├── AssetNotTradable         422 BLUM-422-003
          │    ├── InsufficientPosition     422 BLUM-422-004
          │    └── WithdrawalLimitExceeded  422 BLUM-422-005
          ├── RateLimited                   429 BLUM-429-001, with retry_after (seconds or None); retried
          └── ServerError                   5xx BLUM-500-*; 500, 502, 503 and 504 are retried

The classes are made in one place, ``_translate``: ``error_from_response`` (an error response, by Bluum code,
else by status) and ``error_from_transport`` (httpx's transport exceptions).

Exceptions carry the method and path, never the ``httpx.Request``: its headers hold the Authorization
header, and an exception travels far (logs, error trackers, the readiness report).
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "APIError",
    "AccountNotApproved",
    "AssetNotFound",
    "AssetNotTradable",
    "AuthenticationError",
    "BluumError",
    "Conflict",
    "ConnectionDropped",
    "DuplicateResource",
    "IdempotencyConflict",
    "InsufficientFunds",
    "InsufficientPosition",
    "InvalidRequest",
    "MarketClosed",
    "NotFound",
    "PermissionDenied",
    "RateLimited",
    "RequestTimeout",
    "ServerError",
    "StateConflict",
    "TransportError",
    "Unprocessable",
    "WithdrawalLimitExceeded",
]


class BluumError(Exception):
    """Base of everything the reference client raises.

    :param message: what went wrong, for a human.
    :param method: the HTTP method of the failed call.
    :param path: the URL path of the failed call (no host, no query string).
    """

    def __init__(self, message: str, *, method: str | None = None, path: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.method = method
        self.path = path


class TransportError(BluumError):
    """No usable HTTP response arrived. Whether the server acted is unknown: retry with the same key."""

    def __str__(self) -> str:
        where = f"{self.method} {self.path}: " if self.method and self.path else ""
        return f"{where}{self.message}"


class RequestTimeout(TransportError):
    """The request timed out (connecting, sending, waiting for or reading the response)."""


class ConnectionDropped(TransportError):
    """The connection was refused, reset, or closed before a complete response arrived."""


class APIError(BluumError):
    """Bluum answered with an error.

    :param status: the HTTP status code.
    :param code: the Bluum error code (``BLUM-422-001``), or None when the body carried none.
    :param param: the offending field or header, when Bluum names one.
    :param request_id: the ``X-Request-Id`` of the response: quote it to Bluum support.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: str | None = None,
        param: str | None = None,
        request_id: str | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        super().__init__(message, method=method, path=path)
        self.status = status
        self.code = code
        self.param = param
        self.request_id = request_id

    def __str__(self) -> str:
        head = self.code or f"HTTP {self.status}"
        param = f" [param: {self.param}]" if self.param else ""
        return f"{head}: {self.message}{param} (HTTP {self.status}, request id {self.request_id or 'none'})"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status}, code={self.code!r}, message={self.message!r}, "
            f"param={self.param!r}, request_id={self.request_id!r})"
        )


class InvalidRequest(APIError):
    """400: the request is malformed; fix it, retrying will fail the same way."""


class AuthenticationError(APIError):
    """401: the key pair was refused, even after re-reading it from the secret source once."""


class PermissionDenied(APIError):
    """403: the key pair may not do this, or not to this account in its current state."""


class AccountNotApproved(PermissionDenied):
    """403 BLUM-403-002: the investor is not ``active`` yet (KYC pending, declined or awaiting documents)."""


class NotFound(APIError):
    """404: no such resource (or endpoint) for this key pair."""


class AssetNotFound(NotFound):
    """404 BLUM-404-003: the symbol is not in the asset catalogue."""


class Conflict(APIError):
    """409: the request conflicts with the current state of a resource."""


class DuplicateResource(Conflict):
    """409 BLUM-409-001: the resource already exists (e.g. an investor with this email)."""


class IdempotencyConflict(Conflict):
    """409 BLUM-409-002: the Idempotency-Key was already used with a different request body."""


class StateConflict(Conflict):
    """409 BLUM-409-003: wrong state for this action, or the original request is still in flight."""


class Unprocessable(APIError):
    """422: valid, but the business rules refuse it."""


class InsufficientFunds(Unprocessable):
    """422 BLUM-422-001: not enough cash (buying power, or withdrawable cash)."""


class MarketClosed(Unprocessable):
    """422 BLUM-422-002: the market is closed for this order."""


class AssetNotTradable(Unprocessable):
    """422 BLUM-422-003: the asset exists but cannot be traded."""


class InsufficientPosition(Unprocessable):
    """422 BLUM-422-004: selling more than the investor holds."""


class WithdrawalLimitExceeded(Unprocessable):
    """422 BLUM-422-005: the withdrawal is over the account's limit."""


class RateLimited(APIError):
    """429: too many requests. ``retry_after`` is the server's requested wait in seconds, or None."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServerError(APIError):
    """5xx: Bluum (or something in front of it) failed; 500, 502, 503 and 504 are retried."""
