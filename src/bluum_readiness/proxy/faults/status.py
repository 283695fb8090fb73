"""``status``: answer with an HTTP error in Bluum's envelope without forwarding (the upstream never sees it)."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field

from bluum_readiness.proxy.faults.base import Forward, Outcome, ProxyRequest, Respond
from bluum_readiness.twin.errors import CATALOGUE, error_body
from bluum_readiness.twin.ids import IdGenerator

__all__ = ["DEFAULT_CODES", "StatusFault"]

#: The Bluum error code used for each injectable status unless ``code`` is given.
DEFAULT_CODES: dict[int, str] = {
    400: "BLUM-400-001",
    401: "BLUM-401-003",
    403: "BLUM-403-001",
    404: "BLUM-404-001",
    409: "BLUM-409-003",
    422: "BLUM-422-001",
    429: "BLUM-429-001",
    500: "BLUM-500-001",
    502: "BLUM-500-017",
    503: "BLUM-500-017",
    504: "BLUM-500-017",
}

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # an RFC 9110 field-name
MAX_RETRY_AFTER = 86_400
"""◆ The largest ``Retry-After`` a status fault sends (a day); beyond it, or not finite, the plan is refused."""

_ids = IdGenerator()


@dataclass(frozen=True)
class StatusFault:
    """Answer ``status`` with ``{"error": {"type", "code", "message"}}`` and an ``X-Request-Id``, as Bluum does.

    :param status: one of 400, 401, 403, 404, 409, 422, 429, 500, 502, 503, 504.
    :param code: a catalogue code whose status matches (502/503/504 use BLUM-500-…); default per status.
    :param message: the error message; default: the code's meaning in the catalogue.
    :param retry_after: seconds to send as ``Retry-After`` (whole seconds are sent as an integer).
    :param headers: extra response headers.
    """

    status: int
    code: str | None = None
    message: str | None = None
    retry_after: float | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.status not in DEFAULT_CODES:
            allowed = ", ".join(map(str, DEFAULT_CODES))
            raise ValueError(f"status {self.status} cannot be injected; use one of {allowed}")
        if self.code is not None:
            entry = CATALOGUE.get(self.code)
            expected = 500 if self.status >= 500 else self.status
            if entry is None or entry.status != expected:
                raise ValueError(f"code {self.code!r} is not a BLUM-{expected}-… code of the Bluum error catalogue")
        for name, value in self.headers.items():  # refused when the plan is read, not as a 500 when it fires
            if not _TOKEN.fullmatch(name) or any(c in value for c in "\r\n\0") or not (name + value).isascii():
                raise ValueError(
                    f"headers: {name!r} = {value!r} cannot be sent; a name is a token (letters, digits, -), "
                    "a value ASCII text without CR, LF or NUL"
                )
        if self.retry_after is not None and not (
            math.isfinite(self.retry_after) and 0 <= self.retry_after <= MAX_RETRY_AFTER
        ):
            raise ValueError(f"retry_after={self.retry_after} must be >= 0 and at most {MAX_RETRY_AFTER} seconds")

    async def apply(self, request: ProxyRequest, forward: Forward) -> Outcome:
        code = self.code or DEFAULT_CODES[self.status]
        body = json.dumps(error_body(code, self.message or CATALOGUE[code].meaning)).encode()
        headers = [("Content-Type", "application/json"), ("X-Request-Id", _ids.new("req"))]
        if self.retry_after is not None:
            whole = float(self.retry_after).is_integer()
            headers.append(("Retry-After", str(int(self.retry_after)) if whole else str(self.retry_after)))
        headers.extend(self.headers.items())
        return Respond(self.status, tuple(headers), body)
