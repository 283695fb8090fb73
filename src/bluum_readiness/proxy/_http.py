"""HTTP/1.1 framing shared by both sides of the proxy: hop-by-hop headers, and heads encoded as bytes.

Parsing is httptools' (llhttp, Node.js's C parser, which uvicorn uses too): ``_client_conn.py`` parses the
clients' requests, ``_upstream.py`` the upstream's responses. Encoding is a join of the names and values the
proxy parsed or a fault made up; every header is checked for CR, LF and NUL first, so a fault's headers can
never split a response.
"""

from __future__ import annotations

import re
from http import HTTPStatus

from bluum_readiness.proxy.faults.base import Headers

__all__ = [
    "HOP_BY_HOP",
    "BadHeader",
    "IncomingRequest",
    "encode_fields",
    "end_to_end",
    "has_body",
    "reason_phrase",
    "response_head",
]

HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer", "trailers",
     "transfer-encoding", "upgrade"}
)  # fmt: skip
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+").fullmatch  # RFC 9110 field-name
_HOP, _CONNECTION, _NOT_TOKEN = 1, 2, 4
_names: dict[str, tuple[str, int]] = {}  # name as sent -> (lower-cased, flags): names repeat, decided once
_MAX_NAMES = 1024
_NOT_HEADERS = HOP_BY_HOP | {"close", ""}  # Connection tokens that name no end-to-end header
_REASONS: dict[int, bytes] = {s.value: s.phrase.encode("ascii") for s in HTTPStatus}


class BadHeader(ValueError):
    """A header name or value that cannot be sent (CR, LF or NUL in it, or not Latin-1)."""


class IncomingRequest:
    """A complete request read from a client connection (names and values decoded as Latin-1, as sent).

    :param keep_alive: the connection may carry another request after this one (HTTP/1.1 without
        ``Connection: close``, or HTTP/1.0 with ``Connection: keep-alive``).
    """

    __slots__ = ("body", "headers", "keep_alive", "method", "path", "query", "target")

    def __init__(self, method: str, target: str, headers: Headers, body: bytes, keep_alive: bool) -> None:
        self.method = method
        self.target = target
        self.path, _, self.query = target.partition("?")
        self.headers = headers
        self.body = body
        self.keep_alive = keep_alive


def _name(name: str) -> tuple[str, int]:
    """(lower-cased name, flags) of a header name, from the table or learnt now."""
    known = _names.get(name)
    if known is not None:
        return known
    lower = name.lower()
    flags = (_HOP if lower in HOP_BY_HOP else 0) | (_CONNECTION if lower == "connection" else 0)
    flags |= 0 if _TOKEN(name) else _NOT_TOKEN
    if len(_names) >= _MAX_NAMES:  # names come from clients and upstreams: keep the table bounded
        _names.clear()
    _names[name] = known = (lower, flags)
    return known


def end_to_end(headers: Headers, *, drop: frozenset[str] = frozenset()) -> Headers:
    """``headers`` without hop-by-hop ones (including those the Connection header names) and ``drop``
    (lower-case names)."""
    kept: list[tuple[str, str]] = []
    listed: set[str] | None = None
    names = _names
    for header in headers:
        lower, flags = names.get(header[0]) or _name(header[0])
        if flags & _HOP:
            if flags & _CONNECTION:  # the names it lists are hop-by-hop too ("keep-alive", "close": nothing more)
                listed = (listed or set()) | {t.strip().lower() for t in header[1].split(",")} - _NOT_HEADERS
        elif not drop or lower not in drop:
            kept.append(header)
    if listed:
        return tuple(h for h in kept if _name(h[0])[0] not in listed)
    return tuple(kept)


def encode_fields(headers: Headers) -> bytes:
    """``Name: value\\r\\n`` for each header, as Latin-1 bytes; ``BadHeader`` for one that cannot be sent."""
    text = "".join([f"{name}: {value}\r\n" for name, value in headers])
    n = len(headers)
    names = _names
    names_ok = True
    for name, _ in headers:
        if (names.get(name) or _name(name))[1] & _NOT_TOKEN:
            names_ok = False
    if text.count("\n") != n or text.count("\r") != n or "\0" in text or not names_ok:
        bad = next((k for k, v in headers if not _TOKEN(k) or any(c in v for c in "\r\n\0")), "?")  # (rare)
        raise BadHeader(f"header {bad!r} cannot be sent: a name must be a token, a value has no CR, LF or NUL")
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError as exc:
        raise BadHeader(f"a header is not Latin-1 text ({exc}); send ASCII names and values") from None


def reason_phrase(status: int) -> bytes:
    return _REASONS.get(status, b"")


def has_body(method: str, status: int) -> bool:
    """Whether a response to ``method`` with ``status`` carries a body (RFC 9110: not HEAD, 1xx, 204, 304)."""
    return method != "HEAD" and status >= 200 and status not in (204, 304)


def response_head(status: int, headers: Headers, method: str, body_size: int, keep_alive: bool) -> bytes:
    """The status line and headers of a response to ``method``, framing recomputed from ``body_size``.

    Hop-by-hop headers are dropped; ``Content-Length`` is the body's (a HEAD answer keeps the upstream's);
    ``Connection: close`` is added when the connection ends after this response.
    """
    body = has_body(method, status)
    kept = end_to_end(headers, drop=frozenset() if method == "HEAD" else _CONTENT_LENGTH)
    if body:
        kept += (("Content-Length", str(body_size)),)
    if not keep_alive:
        kept += (("Connection", "close"),)
    return b"HTTP/1.1 %d %s\r\n%s\r\n" % (status, reason_phrase(status), encode_fields(kept))


_CONTENT_LENGTH = frozenset({"content-length"})
