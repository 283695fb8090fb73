"""The structured request log: one entry per HTTP exchange, retries and credential refreshes included.

Each entry is ``{method, path, status, request_id, duration_ms, attempt, idempotency_key, error}``: ``status``
and ``request_id`` are None when no response arrived, and ``error`` then names the failure (``ReadTimeout``,
``RemoteProtocolError: Server disconnected…``); ``attempt`` counts the exchanges of one logical operation from 1.
Every entry is also logged as one line on the ``bluum_readiness.reference`` logger (INFO below 400, WARNING otherwise).

What is never recorded: headers other than ``X-Request-Id`` and ``Idempotency-Key``, bodies, query strings.
So the Authorization header (the API secret), webhook secrets and personal data stay out of logs.

``LoggingTransport`` wraps the real transport, so it sees exactly what goes on the wire, including the
second request of a 401 refresh that the auth flow sends inside one ``Client.send``.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

import httpx

__all__ = ["OPERATION", "Exchange", "LoggingTransport", "Operation", "RequestLog"]

logger = logging.getLogger("bluum_readiness.reference")

#: The ``httpx.Request.extensions`` key under which the client passes the ``Operation`` a request belongs to.
OPERATION = "bluum_readiness.operation"


class Operation:
    """One logical operation (a deposit, say): numbers its exchanges 1, 2, 3 … across retries."""

    def __init__(self) -> None:
        self._counter: Iterator[int] = itertools.count(1)

    def next_attempt(self) -> int:
        return next(self._counter)


@dataclass(frozen=True)
class Exchange:
    """One request and its outcome, as recorded."""

    method: str
    path: str
    status: int | None
    request_id: str | None
    duration_ms: float
    attempt: int
    idempotency_key: str | None
    error: str | None = None  # the failure, when no response arrived

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class RequestLog:
    """The most recent ``maxlen`` exchanges (thread-safe; old entries drop off so memory stays bounded)."""

    def __init__(self, maxlen: int = 10_000) -> None:
        self._entries: deque[Exchange] = deque(maxlen=maxlen)
        self._lock = threading.Lock()
        self._listeners: list[Callable[[Exchange], None]] = []

    def subscribe(self, listener: Callable[[Exchange], None]) -> None:
        """Call ``listener`` with every exchange recorded from now on (e.g. the alert monitor)."""
        self._listeners.append(listener)

    def record(self, exchange: Exchange) -> None:
        with self._lock:
            self._entries.append(exchange)
        for listener in self._listeners:
            try:
                listener(exchange)
            except Exception:  # a broken listener must not break the request
                logger.exception("request log listener %r failed", listener)
        level = logging.INFO if exchange.status is not None and exchange.status < 400 else logging.WARNING
        logger.log(
            level,
            "%s %s -> %s in %.1f ms (request id %s, attempt %d, idempotency key %s)",
            exchange.method,
            exchange.path,
            exchange.status if exchange.status is not None else f"no response ({exchange.error})",
            exchange.duration_ms,
            exchange.request_id,
            exchange.attempt,
            exchange.idempotency_key,
            extra={"bluum_exchange": exchange.as_dict()},
        )

    def entries(self) -> list[dict[str, Any]]:
        """A snapshot, oldest first, as plain dicts."""
        with self._lock:
            return [exchange.as_dict() for exchange in self._entries]


class LoggingTransport(httpx.BaseTransport):
    """Record every exchange ``inner`` carries into ``log``: timing, status, request id, attempt number."""

    def __init__(self, inner: httpx.BaseTransport, log: RequestLog) -> None:
        self._inner = inner
        self._log = log

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        operation = request.extensions.get(OPERATION)
        attempt = operation.next_attempt() if isinstance(operation, Operation) else 1
        started = time.perf_counter()
        response: httpx.Response | None = None
        try:
            response = self._inner.handle_request(request)
            response.read()  # the body is part of the exchange: a read timeout is "no response"
        except BaseException as exc:
            if response is not None:
                response.close()
            self._record(request, None, attempt, started, error=_failure(exc))
            raise
        self._record(request, response, attempt, started)
        return response

    def _record(
        self,
        request: httpx.Request,
        response: httpx.Response | None,
        attempt: int,
        started: float,
        error: str | None = None,
    ) -> None:
        self._log.record(
            Exchange(
                method=request.method,
                path=request.url.path,
                status=response.status_code if response is not None else None,
                request_id=response.headers.get("X-Request-Id") if response is not None else None,
                duration_ms=round((time.perf_counter() - started) * 1000, 3),
                attempt=attempt,
                idempotency_key=request.headers.get("Idempotency-Key"),
                error=error,
            )
        )

    def close(self) -> None:
        self._inner.close()


def _failure(exc: BaseException) -> str:
    """What went wrong, for the log: the exception's class and message (httpx's carry no headers or bodies)."""
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}"[:200] if text else type(exc).__name__
