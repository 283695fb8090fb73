"""One request through the engine: select a rule, apply its fault, record the exchange.

Shared by both placements (``ProxyServer`` over sockets, ``FaultTransport`` in-process), so a plan means
the same thing in either. The placement supplies ``forward`` and carries out the outcome, then calls
``finish`` once the client has its answer (or the connection is gone).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bluum_readiness.clock import Clock
from bluum_readiness.errors import HarnessError
from bluum_readiness.proxy.engine import FaultEngine
from bluum_readiness.proxy.faults import Abort, Close, Hold, Outcome, ProxyRequest, Respond, kind_of
from bluum_readiness.proxy.recorder import Exchange, Recorder, sanitize_headers
from bluum_readiness.proxy.rules import FaultRule

__all__ = ["Pipeline", "Processed", "UpstreamError", "upstream_error_response"]

log = logging.getLogger("bluum_readiness.proxy")
_EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


class UpstreamError(Exception):
    """``forward()`` could not get a response from the upstream; ``cause`` is the client library's error."""

    def __init__(self, message: str, cause: BaseException | None = None) -> None:
        super().__init__(message)
        self.cause = cause


def upstream_error_response(message: str, status: int = 502, code: str = "BLUM-500-017") -> Respond:
    """The 502 a placement answers when the upstream is unreachable (a harness problem, said plainly)."""
    body = {"error": {"type": "api_error", "code": code, "message": f"bluum-readiness proxy: {message}"}}
    return Respond(status, (("Content-Type", "application/json"),), json.dumps(body).encode())


@dataclass
class Processed:
    """A request whose fate is decided: the placement carries out ``outcome``, then calls ``finish``."""

    seq: int
    started: float
    request: ProxyRequest
    rule: FaultRule | None
    outcome: Outcome
    upstream: Respond | None = None
    upstream_ms: float | None = None
    error: UpstreamError | None = None
    failure: Exception | None = None  # a fault's own bug: answered 500, recorded as "proxy_error"
    reused_connection: bool | None = None  # see ``Exchange.reused_connection``
    recorded: list[Exchange] = field(default_factory=list)


class Pipeline:
    """The engine, recorder and clock of one placement."""

    def __init__(self, engine: FaultEngine, recorder: Recorder, clock: Clock) -> None:
        self.engine = engine
        self.recorder = recorder
        self.clock = clock
        self._idle = threading.Condition()
        self._in_flight = 0

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def settle(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s until no request is between ``process`` and ``finish``; True if none is."""
        with self._idle:
            return self._idle.wait_for(lambda: self._in_flight == 0, timeout)

    async def process(
        self,
        request: ProxyRequest,
        forward: Callable[[], Awaitable[Respond]],
        *,
        reused_connection: bool | None = None,
    ) -> Processed:
        """Pick the rule and run its fault (or just forward). Upstream failures become a 502 outcome.
        ``reused_connection``: whether the request came on a connection that had carried another (None: no
        connections in this placement)."""
        with self._idle:
            self._in_flight += 1
        seq, started = self.recorder.next_seq(), self.clock.now()
        rule = self.engine.select(request.method, request.path)
        done = Processed(seq, started, request, rule, Close(), reused_connection=reused_connection)

        async def tracked() -> Respond:
            if done.upstream is not None:
                raise HarnessError("a fault called forward() twice; a request is forwarded at most once")
            t0 = self.clock.now()
            done.upstream = await forward()
            done.upstream_ms = (self.clock.now() - t0) * 1000
            return done.upstream

        try:
            done.outcome = await rule.fault.apply(request, tracked) if rule else await tracked()
        except UpstreamError as exc:
            done.error = exc
            done.outcome = upstream_error_response(str(exc))
        except Exception as exc:
            log.exception("fault rule %r failed on %s %s", rule.name if rule else None, request.method, request.path)
            done.failure = exc
            name = rule.name if rule else "(none)"
            message = f"fault rule {name!r} failed: {exc!r}; fix the fault (see CREATING_FAULTS.md)"
            done.outcome = upstream_error_response(message, 500, "BLUM-500-001")
        return done

    def finish(self, done: Processed, *, delivered: bool = True) -> Exchange:
        """Record the exchange; ``delivered=False`` when the client gave up before a response reached it."""
        outcome = done.outcome
        response = outcome if isinstance(outcome, Respond) and delivered else None
        headers, key_id = sanitize_headers(done.request.headers)
        finished = self.clock.now()
        exchange = Exchange(
            seq=done.seq,
            method=done.request.method,
            path=done.request.path,
            query=done.request.query,
            idempotency_key=done.request.header("idempotency-key"),
            auth_key_id=key_id,
            request_headers=headers,
            body_sha256=hashlib.sha256(done.request.body).hexdigest() if done.request.body else _EMPTY_SHA256,
            body_size=len(done.request.body),
            status=response.status if response else None,
            request_id=response.header("x-request-id") if response else None,
            response_headers=sanitize_headers(response.headers)[0] if response else (),
            started=done.started,
            finished=finished,
            duration_ms=round((finished - done.started) * 1000, 3),
            upstream_status=done.upstream.status if done.upstream else None,
            upstream_ms=round(done.upstream_ms, 3) if done.upstream_ms is not None else None,
            upstream_committed=done.upstream is not None,
            fault=done.rule.name if done.rule else None,
            fault_kind=kind_of(done.rule.fault) if done.rule else None,
            outcome=_outcome_name(done, delivered),
            error=str(done.error or done.failure or "") or None,
            reused_connection=done.reused_connection,
        )
        self.recorder.append(exchange)
        done.recorded.append(exchange)
        with self._idle:
            self._in_flight -= 1
            if not self._in_flight:
                self._idle.notify_all()
        return exchange


def _outcome_name(done: Processed, delivered: bool) -> str:
    outcome = done.outcome
    if done.failure is not None:
        return "proxy_error"
    if done.error is not None:
        return "upstream_error"
    if isinstance(outcome, Respond):
        if not delivered:
            return "timeout"
        return "forwarded" if outcome.upstream else "status"
    if isinstance(outcome, Hold):
        return "timeout"
    if isinstance(outcome, Abort):
        return "reset"
    return "dropped"
