"""What the proxy saw: one ``Exchange`` per request, kept by a thread-safe ``Recorder``.

Secrets never enter a record: of ``Authorization`` only the Basic-auth username (the key id) is kept,
other credential-like headers are masked, and the body is kept only as its SHA-256.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import dataclasses
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from bluum_readiness.proxy.faults.base import Headers
from bluum_readiness.proxy.rules import compile_glob

__all__ = ["Exchange", "Recorder", "sanitize_headers"]

log = logging.getLogger("bluum_readiness.proxy")

MASK = "***"
_MASKED = ("cookie", "token", "secret", "api-key", "apikey", "password", "x-api-key")


def _key_id(value: str) -> tuple[str, str | None]:
    """(sanitised Authorization value, Basic-auth username or None)."""
    scheme, _, credentials = value.strip().partition(" ")
    if scheme.lower() != "basic":
        return f"{scheme} {MASK}" if credentials else MASK, None
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return f"Basic {MASK}", None
    username, sep, _ = decoded.partition(":")
    if not sep:
        return f"Basic {MASK}", None
    return f"Basic {username}:{MASK}", username


_KEEP, _AUTHORIZATION, _PROXY_AUTHORIZATION, _MASK_VALUE = 0, 1, 2, 3
_kinds: dict[str, int] = {}  # header name as sent -> what to do with its value (names repeat: decided once)
_MAX_KINDS = 1024


def _kind(name: str) -> int:
    lower = name.lower()
    if lower == "authorization":
        kind = _AUTHORIZATION
    elif lower == "proxy-authorization":
        kind = _PROXY_AUTHORIZATION
    elif any(word in lower for word in _MASKED):
        kind = _MASK_VALUE
    else:
        kind = _KEEP
    if len(_kinds) >= _MAX_KINDS:  # names come from clients: keep the table bounded
        _kinds.clear()
    _kinds[name] = kind
    return kind


def sanitize_headers(headers: Iterable[tuple[str, str]]) -> tuple[Headers, str | None]:
    """Headers safe to record, and the Basic-auth key id (``"Basic <key_id>:***"`` replaces the credentials)."""
    out: list[tuple[str, str]] = []
    key_id: str | None = None
    kinds = _kinds
    for name, value in headers:
        kind = kinds.get(name)
        if kind is None:
            kind = _kind(name)
        if kind == _MASK_VALUE:
            value = MASK
        elif kind:
            value, user = _key_id(value)
            if kind == _AUTHORIZATION:
                key_id = key_id or user
        out.append((name, value))
    return tuple(out), key_id


@dataclass(frozen=True)
class Exchange:
    """One request through a placement and what came of it. Times come from the placement's injected clock.

    :param seq: arrival order, from 1 (per recorder, restarting after ``clear``).
    :param query: the raw query string ("" when none).
    :param idempotency_key: the request's ``Idempotency-Key`` header, or None.
    :param auth_key_id: the Basic-auth username (the API key id); never the secret.
    :param request_headers: sanitised request headers (``Authorization: Basic <key_id>:***``).
    :param body_sha256: hex SHA-256 of the request body as sent (``body_size`` bytes).
    :param status: the status the client received; None when it got no response (timeout, drop, reset).
    :param request_id: the response's ``X-Request-Id`` (Bluum's, or the one a status fault made up).
    :param response_headers: the headers the client received (empty when none).
    :param started: when the complete request had arrived (seconds since the epoch); ``finished``: when the
        client got its answer or the connection was closed.
    :param upstream_status: the upstream's status when the request was forwarded and answered, else None.
    :param upstream_ms: time the upstream took, when it was forwarded.
    :param upstream_committed: the upstream received and answered the request (its effects happened).
    :param fault: the name of the rule applied (None: passed through); ``fault_kind`` its registered kind.
    :param outcome: ``forwarded`` | ``status`` | ``timeout`` | ``dropped`` | ``reset`` | ``upstream_error``.
    :param error: for ``upstream_error``, what went wrong.
    :param reused_connection: the request came on a connection that had carried an earlier one (an HTTP
        transport resends a request only then: Go's ``http.Transport`` when such a connection closes before any
        answer); None where the placement has no connections (in-process) or the record predates the field.
    """

    seq: int
    method: str
    path: str
    query: str
    idempotency_key: str | None
    auth_key_id: str | None
    request_headers: Headers
    body_sha256: str
    body_size: int
    status: int | None
    request_id: str | None
    response_headers: Headers
    started: float
    finished: float
    duration_ms: float
    upstream_status: int | None
    upstream_ms: float | None
    upstream_committed: bool
    fault: str | None
    fault_kind: str | None
    outcome: str
    error: str | None = None
    reused_connection: bool | None = None

    def header(self, name: str) -> str | None:
        """A (sanitised) request header, case-insensitive."""
        return next((v for k, v in self.request_headers if k.lower() == name.lower()), None)

    def response_header(self, name: str) -> str | None:
        return next((v for k, v in self.response_headers if k.lower() == name.lower()), None)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; headers become lists of ``[name, value]`` pairs. (Every other field is a scalar: read as it
        is, not through ``dataclasses.asdict``, whose deep copy was most of the cost of a check's evidence.)"""
        data = {name: getattr(self, name) for name in _EXCHANGE_FIELDS}
        data["request_headers"] = [list(h) for h in self.request_headers]
        data["response_headers"] = [list(h) for h in self.response_headers]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Exchange:
        """The inverse of ``to_dict`` (e.g. a line of ``bluum-readiness proxy --record``)."""
        values = dict(data)
        for key in ("request_headers", "response_headers"):
            values[key] = tuple((str(k), str(v)) for k, v in values[key])
        return cls(**values)


_EXCHANGE_FIELDS = tuple(field.name for field in dataclasses.fields(Exchange))


def _by_seq(exchange: Exchange) -> int:
    return exchange.seq


class Recorder:
    """Exchanges in arrival order. Thread-safe; listeners are told of each exchange as it is appended."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[Exchange] = []
        self._seq = 0
        self._listeners: list[Callable[[Exchange], None]] = []

    def next_seq(self) -> int:
        """Reserve the sequence number of a request that has just arrived."""
        with self._lock:
            self._seq += 1
            return self._seq

    def append(self, exchange: Exchange) -> None:
        with self._lock:  # kept in ``seq`` order: an exchange that finished before an earlier one goes before it
            items = self._items
            if not items or items[-1].seq < exchange.seq:
                items.append(exchange)
            else:
                bisect.insort(items, exchange, key=_by_seq)
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(exchange)
            except Exception:  # a broken sink must not break the proxy
                log.exception("an exchange listener failed")

    def subscribe(self, listener: Callable[[Exchange], None]) -> Callable[[], None]:
        """Call ``listener(exchange)`` after each append (on the placement's thread); returns an unsubscriber."""
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def snapshot(self) -> list[Exchange]:
        """Every exchange so far, by ``seq`` (a copy: sorted as they were appended, not on every read)."""
        with self._lock:
            return list(self._items)

    def filter(
        self,
        *,
        method: str | None = None,
        path: str | None = None,
        fault: str | None = None,
        outcome: str | None = None,
        idempotency_key: str | None = None,
    ) -> list[Exchange]:
        """The exchanges matching every criterion given (``path`` is a glob as in rules)."""
        pattern = compile_glob(path) if path is not None else None
        return [
            e
            for e in self.snapshot()
            if (method is None or e.method == method.upper())
            and (pattern is None or pattern.fullmatch(e.path))
            and (fault is None or e.fault == fault)
            and (outcome is None or e.outcome == outcome)
            and (idempotency_key is None or e.idempotency_key == idempotency_key)
        ]

    def clear(self) -> None:
        """Forget every exchange; ``seq`` restarts at 1."""
        with self._lock:
            self._items.clear()
            self._seq = 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)
