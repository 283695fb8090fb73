"""``FaultTransport``: the fault engine in-process, wrapping any httpx transport (httpx's wrapping-transport pattern).

Same plans, same recorder, same outcomes as ``ProxyServer``, but no sockets and no real waiting: every wait
(latency, holds) goes to an injected ``sleep`` (default: advance the transport's ``ManualClock``). What the
client sees mirrors what it would get through the socket proxy:

    Respond                   the response (or ``httpx.ReadTimeout`` if the waits before it reach the read timeout)
    Hold (hang/withhold)      ``httpx.ReadTimeout`` when the hold outlasts the read timeout, otherwise
                              ``httpx.RemoteProtocolError`` (the server closed without answering)
    Close (drop_after)        ``httpx.RemoteProtocolError``
    Abort (reset)             ``httpx.ReadError`` (connection reset by peer)
    upstream failure          the inner transport's own exception, re-raised
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from http import HTTPStatus
from typing import Any, TypeVar

import httpx

from bluum_readiness.clock import Clock, ManualClock
from bluum_readiness.errors import HarnessError
from bluum_readiness.proxy._http import end_to_end
from bluum_readiness.proxy.engine import FaultEngine
from bluum_readiness.proxy.faults import Abort, Close, Hold, ProxyRequest, Respond
from bluum_readiness.proxy.pipeline import Pipeline, Processed, UpstreamError
from bluum_readiness.proxy.plan import Plan
from bluum_readiness.proxy.recorder import Exchange, Recorder
from bluum_readiness.proxy.rules import FaultRule

__all__ = ["FaultTransport"]

T = TypeVar("T")
_DISCONNECTED = "Server disconnected without sending a response."


def _drive(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine that never suspends (a sync inner transport, a sync sleeper) without an event loop."""
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]
    coro.close()
    raise HarnessError(
        "a fault awaited something other than request.sleep() or forward(); with a sync client, FaultTransport "
        "runs faults without an event loop, so they may only wait through request.sleep"
    )


class FaultTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Apply a fault plan to requests sent through ``inner`` and record every exchange.

    ``httpx.Client(transport=FaultTransport(httpx.HTTPTransport(), plan))``, or with an async client and an
    async inner transport. Control methods match ``ProxyServer``: ``set_plan``, ``add_rule``, ``remove_rule``,
    ``clear_faults``, ``exchanges``, ``reset``.

    :param clock: timestamps of recorded exchanges (default: a ``ManualClock``, so durations are virtual).
    :param sleep: called with every wait a fault imposes, instead of sleeping (default: advance ``clock``
        when it is a ``ManualClock``). ``waits`` lists them all.
    """

    def __init__(
        self,
        inner: httpx.BaseTransport | httpx.AsyncBaseTransport,
        plan: Plan | None = None,
        *,
        recorder: Recorder | None = None,
        clock: Clock | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.inner = inner
        self.engine = FaultEngine(plan)
        self.recorder = recorder if recorder is not None else Recorder()
        self.clock = clock if clock is not None else ManualClock()
        self.waits: list[float] = []
        self._sleep = sleep or (self.clock.advance if isinstance(self.clock, ManualClock) else (lambda _s: None))
        self._pipeline = Pipeline(self.engine, self.recorder, self.clock)

    def set_plan(self, plan: Plan) -> None:
        self.engine.set_plan(plan)

    def add_rule(self, rule: FaultRule) -> None:
        self.engine.add_rule(rule)

    def remove_rule(self, name: str) -> bool:
        return self.engine.remove_rule(name)

    def clear_faults(self) -> None:
        self.engine.clear()

    def exchanges(self) -> list[Exchange]:
        return self.recorder.snapshot()

    def reset(self) -> None:
        self.engine.reset()
        self.recorder.clear()

    # -- sync ---------------------------------------------------------------------------------------------

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        inner = self.inner
        if not isinstance(inner, httpx.BaseTransport):
            raise HarnessError("FaultTransport wraps an async transport; use it with httpx.AsyncClient")
        body = request.read()

        async def forward() -> Respond:
            try:
                response = inner.handle_request(request)
                try:
                    stream = response.stream
                    raw = b"".join(stream) if isinstance(stream, httpx.SyncByteStream) else response.read()
                finally:
                    response.close()
            except httpx.TransportError as exc:
                raise UpstreamError(f"upstream unreachable: {type(exc).__name__}: {exc}", exc) from exc
            return Respond(response.status_code, _raw_headers(response), raw, upstream=True)

        waited = [0.0]
        done = _drive(self._pipeline.process(self._request(request, body, waited), forward))
        return self._deliver(request, done, waited[0])

    # -- async --------------------------------------------------------------------------------------------

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        inner = self.inner
        if not isinstance(inner, httpx.AsyncBaseTransport):
            raise HarnessError("FaultTransport wraps a sync transport; use it with httpx.Client")
        body = await request.aread()

        async def forward() -> Respond:
            try:
                response = await inner.handle_async_request(request)
                try:
                    stream = response.stream
                    if isinstance(stream, httpx.AsyncByteStream):
                        raw = b"".join([chunk async for chunk in stream])
                    else:
                        raw = await response.aread()
                finally:
                    await response.aclose()
            except httpx.TransportError as exc:
                raise UpstreamError(f"upstream unreachable: {type(exc).__name__}: {exc}", exc) from exc
            return Respond(response.status_code, _raw_headers(response), raw, upstream=True)

        waited = [0.0]
        done = await self._pipeline.process(self._request(request, body, waited), forward)
        return self._deliver(request, done, waited[0])

    def close(self) -> None:
        if isinstance(self.inner, httpx.BaseTransport):
            self.inner.close()

    async def aclose(self) -> None:
        if isinstance(self.inner, httpx.AsyncBaseTransport):
            await self.inner.aclose()

    # -- shared -------------------------------------------------------------------------------------------

    def _wait(self, seconds: float) -> None:
        self.waits.append(seconds)
        self._sleep(seconds)

    def _request(self, request: httpx.Request, body: bytes, waited: list[float]) -> ProxyRequest:
        async def sleep(seconds: float) -> None:
            waited[0] += seconds
            self._wait(seconds)

        headers = tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw)
        url = request.url
        return ProxyRequest(request.method, url.path, url.query.decode("ascii"), headers, body, sleep=sleep)

    def _deliver(self, request: httpx.Request, done: Processed, waited: float) -> httpx.Response:
        """Turn the outcome into what an httpx client would get from a real socket."""
        outcome = done.outcome
        read_timeout = request.extensions.get("timeout", {}).get("read")
        if done.failure is not None:
            self._pipeline.finish(done, delivered=False)
            raise HarnessError(f"fault rule {done.rule.name if done.rule else None!r} failed") from done.failure
        if done.error is not None:
            self._pipeline.finish(done, delivered=False)  # the client gets the exception, not the proxy's 502
            if done.error.cause is not None:
                raise done.error.cause
            raise httpx.ConnectError(str(done.error), request=request)
        if isinstance(outcome, Respond):
            if read_timeout is not None and waited >= read_timeout:
                self._pipeline.finish(done, delivered=False)
                raise httpx.ReadTimeout("timed out", request=request)
            self._pipeline.finish(done)
            return _response(request, outcome)
        if isinstance(outcome, Hold):
            left = None if read_timeout is None else max(0.0, read_timeout - waited)
            self._wait(outcome.seconds if left is None or left > outcome.seconds else left)
            self._pipeline.finish(done)
            if left is not None and left <= outcome.seconds:
                raise httpx.ReadTimeout("timed out", request=request)
            raise httpx.RemoteProtocolError(_DISCONNECTED, request=request)
        self._pipeline.finish(done)
        if isinstance(outcome, Abort):
            raise httpx.ReadError("[Errno 104] Connection reset by peer", request=request)
        assert isinstance(outcome, Close)
        raise httpx.RemoteProtocolError(_DISCONNECTED, request=request)


def _raw_headers(response: httpx.Response) -> tuple[tuple[str, str], ...]:
    return tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers.raw)


def _response(request: httpx.Request, outcome: Respond) -> httpx.Response:
    headers = list(end_to_end(outcome.headers, drop=frozenset({"content-length"})))
    headers.append(("Content-Length", str(len(outcome.body))))
    try:
        reason = HTTPStatus(outcome.status).phrase.encode()
    except ValueError:
        reason = b""
    extensions = {"http_version": b"HTTP/1.1", "reason_phrase": reason}
    return httpx.Response(outcome.status, headers=headers, content=outcome.body, request=request, extensions=extensions)
