"""The adapter protocol's wire format: newline-delimited JSON-RPC 2.0 (docs/adapter-protocol.md).

The suite writes requests (one JSON object per line, UTF-8) to the program's stdin; the program writes one
response per request to its stdout. This module only encodes requests and decodes responses; anything on stdout
that is not a well-formed response to us is a ``ProtocolViolation`` — the program is then unusable (*broken*).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "APPLICATION_ERROR",
    "PROTOCOL_VERSION",
    "ProtocolViolation",
    "Response",
    "RpcError",
    "decode_response",
    "encode_request",
]

PROTOCOL_VERSION = 1
#: The JSON-RPC error code of a failed operation (an implementation-defined server error).
APPLICATION_ERROR = -32000


class ProtocolViolation(ValueError):
    """A line on the program's stdout that is not a JSON-RPC 2.0 response (the reason says how)."""


@dataclass(frozen=True)
class RpcError:
    """A JSON-RPC error object: ``data`` carries what the API answered (status, code, param, request_id,
    transport), when the program says."""

    code: int
    message: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Response:
    """One response: ``error`` is None when the request succeeded (``result`` may then be None too)."""

    id: int
    result: Any = None
    error: RpcError | None = None


def encode_request(request_id: int, method: str, params: dict[str, Any]) -> bytes:
    """One request as a single line (no newline can appear inside: JSON escapes them in strings)."""
    message = {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode("utf-8") + b"\n"


def decode_response(line: bytes) -> Response:
    """Parse one stdout line as a response to one of our requests (ids are integers we chose)."""
    try:
        message = json.loads(line)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProtocolViolation(f"not JSON ({exc.__class__.__name__}: {exc})") from None
    if not isinstance(message, dict):
        raise ProtocolViolation(f"a JSON {type(message).__name__}, not a JSON-RPC object")
    if message.get("jsonrpc") != "2.0":
        raise ProtocolViolation(f'"jsonrpc" is {message.get("jsonrpc")!r}, not "2.0"')
    if "method" in message:
        raise ProtocolViolation(
            f"a request or notification ({message['method']!r}); in protocol 1 only the suite sends requests"
        )
    request_id = message.get("id")
    if isinstance(request_id, bool) or not isinstance(request_id, int):
        if request_id is None and isinstance(message.get("error"), dict):
            error = message["error"]
            raise ProtocolViolation(
                f"an error with no request id ({error.get('code')}: {error.get('message')!r}): the program could "
                "not read one of the suite's requests"
            )
        raise ProtocolViolation(f'"id" is {request_id!r}; a response carries the integer id of its request')
    has_result, has_error = "result" in message, "error" in message
    if has_result == has_error:
        raise ProtocolViolation('a response has exactly one of "result" and "error"')
    if has_result:
        return Response(request_id, result=message["result"])
    return Response(request_id, error=_error(message["error"]))


def _error(value: Any) -> RpcError:
    if not isinstance(value, dict):
        raise ProtocolViolation(f'"error" is {value!r}; it must be an object with "code" and "message"')
    code, message, data = value.get("code"), value.get("message"), value.get("data")
    if isinstance(code, bool) or not isinstance(code, int):
        raise ProtocolViolation(f'error "code" is {code!r}; it must be an integer (e.g. -32000)')
    if not isinstance(message, str):
        raise ProtocolViolation(f'error "message" is {message!r}; it must be a string')
    if data is not None and not isinstance(data, dict):
        raise ProtocolViolation(f'error "data" is {data!r}; it must be an object (status, code, request_id, …)')
    return RpcError(code, message, data or {})
