"""The Bluum error model: the code catalogue, ``ApiError`` and its JSON rendering.

Every error the twin emits goes through ``ApiError`` and is rendered as the
Gen C envelope ``{"error": {"type", "code", "message", "param"?}}`` with the
HTTP status taken from the code (``BLUM-{status}-{seq}``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["CATALOGUE", "ApiError", "ErrorCode", "error_body", "error_type"]


@dataclass(frozen=True)
class ErrorCode:
    code: str
    meaning: str
    retryable: bool = False

    @property
    def status(self) -> int:
        return int(self.code.split("-")[1])


CATALOGUE: dict[str, ErrorCode] = {
    c.code: c
    for c in [
        ErrorCode("BLUM-400-001", "Generic validation error"),
        ErrorCode("BLUM-400-002", "Missing required field"),
        ErrorCode("BLUM-400-003", "Invalid field format"),
        ErrorCode("BLUM-400-004", "Invalid enum value"),
        ErrorCode("BLUM-400-005", "Invalid amount"),
        ErrorCode("BLUM-400-006", "Invalid quantity"),
        ErrorCode("BLUM-400-007", "Invalid date range"),
        ErrorCode("BLUM-400-008", "Request body too large"),
        ErrorCode("BLUM-401-001", "Missing authorization header"),
        ErrorCode("BLUM-401-002", "Malformed authorization header"),
        ErrorCode("BLUM-401-003", "Invalid API key or secret"),
        ErrorCode("BLUM-401-004", "API key inactive"),
        ErrorCode("BLUM-401-005", "API key expired"),
        ErrorCode("BLUM-403-001", "Insufficient permissions"),
        ErrorCode("BLUM-403-002", "Account not approved"),
        ErrorCode("BLUM-403-003", "Production access required"),
        ErrorCode("BLUM-403-004", "Operation not allowed in current account state"),
        ErrorCode("BLUM-404-001", "Resource not found"),
        ErrorCode("BLUM-404-002", "Endpoint not found"),
        ErrorCode("BLUM-404-003", "Asset not found"),
        ErrorCode("BLUM-409-001", "Duplicate resource"),
        ErrorCode("BLUM-409-002", "Idempotency conflict"),
        ErrorCode("BLUM-409-003", "State conflict"),
        ErrorCode("BLUM-422-001", "Insufficient funds"),
        ErrorCode("BLUM-422-002", "Market closed"),
        ErrorCode("BLUM-422-003", "Asset not tradable"),
        ErrorCode("BLUM-422-004", "Position insufficient"),
        ErrorCode("BLUM-422-005", "Withdrawal limit exceeded"),
        ErrorCode("BLUM-429-001", "Rate limit exceeded", retryable=True),
        ErrorCode("BLUM-500-001", "Internal error", retryable=True),
        ErrorCode("BLUM-500-017", "External service error", retryable=True),
    ]
}

_TYPE_BY_STATUS = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    409: "conflict_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
    500: "api_error",
}


def error_type(code: str) -> str:
    """The envelope ``type`` for a code (◆ 409-002 is ``idempotency_error``; 422 is ``invalid_request_error``)."""
    if code == "BLUM-409-002":
        return "idempotency_error"
    return _TYPE_BY_STATUS[CATALOGUE[code].status]


def error_body(code: str, message: str, param: str | None = None) -> dict[str, Any]:
    err: dict[str, Any] = {"type": error_type(code), "code": code, "message": message}
    if param is not None:
        err["param"] = param
    return {"error": err}


class ApiError(Exception):
    """An API error the twin answers with. Raise it anywhere inside a request; the app renders it.

    :param code: a catalogue code such as ``"BLUM-400-002"`` (unknown codes are a programming error).
    :param message: what went wrong and how to fix it, for the API caller.
    :param param: the offending field or header, when there is one.
    :param headers: extra response headers (e.g. ``Retry-After``).
    """

    def __init__(
        self, code: str, message: str, *, param: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        if code not in CATALOGUE:
            raise ValueError(f"{code!r} is not in the Bluum error catalogue")
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.param = param
        self.headers = headers or {}

    @property
    def status(self) -> int:
        return CATALOGUE[self.code].status

    def body(self) -> dict[str, Any]:
        return error_body(self.code, self.message, self.param)
