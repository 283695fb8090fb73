"""The error envelope as Bluum documents it (shared/bluum-api.md §2), written down independently of the twin.

The twin's own catalogue (``twin/errors.py``) is what is under test, so the expectation is spelled out here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

_CODES_PER_STATUS = {400: 8, 401: 5, 403: 4, 404: 3, 409: 3, 422: 5, 429: 1}
DOCUMENTED_CODES = frozenset(
    {f"BLUM-{status}-{seq:03d}" for status, count in _CODES_PER_STATUS.items() for seq in range(1, count + 1)}
    | {"BLUM-500-001", "BLUM-500-017"}
)
"""Every code of the catalogue: 400-001…008, 401-001…005, 403-001…004, 404-001…003, 409-001…003,
422-001…005, 429-001, 500-001, 500-017."""

_TYPE_PER_STATUS = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    409: "conflict_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
}


def expected_type(code: str) -> str:
    """The documented ``type`` of a code (◆ 409-002 is the idempotency_error; see docs/sandbox-twin.md)."""
    return "idempotency_error" if code == "BLUM-409-002" else _TYPE_PER_STATUS[int(code.split("-")[1])]


def envelope_problem(status: int, headers: Mapping[str, str], body: bytes) -> str | None:
    """What is wrong with a 4xx response's error envelope, or None when it is a proper one.

    ``headers`` must look names up case-insensitively (httpx and requests headers do).
    """
    if not headers.get("x-request-id"):
        return "no X-Request-Id header"
    try:
        data: Any = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return f"body is not JSON: {body[:200]!r}"
    error = data.get("error") if isinstance(data, dict) else None
    if not isinstance(error, dict):
        return f"no 'error' object: {data!r}"[:300]
    code = error.get("code")
    if code not in DOCUMENTED_CODES:
        return f"code {code!r} is not in the catalogue"
    if int(str(code).split("-")[1]) != status:
        return f"code {code} does not match HTTP status {status}"
    if error.get("type") != expected_type(str(code)):
        return f"type {error.get('type')!r} for {code}; expected {expected_type(str(code))!r}"
    if not isinstance(error.get("message"), str) or not error["message"]:
        return f"message {error.get('message')!r} is not a non-empty string"
    if "param" in error and error["param"] is not None and not isinstance(error["param"], str):
        return f"param {error['param']!r} is not a string"
    return None
