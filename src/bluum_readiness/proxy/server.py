"""``ProxyServer``: the fault-injecting reverse proxy on a real loopback socket.

An asyncio protocol per connection, requests parsed by httptools (``_client_conn.py``), in a background
thread with its own event loop (uvloop's where installed): an ASGI server cannot close a connection without
answering, nor reset it. Requests are forwarded upstream by ``UpstreamClient`` (httptools, keep-alive;
``_upstream.py``); ``/__proxy/…`` is the control API (``control.py``).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future
from types import TracebackType
from typing import Any

import httpx

from bluum_readiness._serving import bind, new_event_loop
from bluum_readiness.clock import Clock, SystemClock
from bluum_readiness.errors import ConfigError, HarnessError
from bluum_readiness.proxy._client_conn import ClientConnection, Rejection
from bluum_readiness.proxy._egress import egress_proxy_for
from bluum_readiness.proxy._http import IncomingRequest, end_to_end
from bluum_readiness.proxy._upstream import UpstreamClient
from bluum_readiness.proxy.control import PREFIX, handle_control, render
from bluum_readiness.proxy.engine import FaultEngine
from bluum_readiness.proxy.faults import Abort, Hold, ProxyRequest, Respond
from bluum_readiness.proxy.faults.base import MAX_FAULT_SECONDS
from bluum_readiness.proxy.pipeline import Pipeline, UpstreamError
from bluum_readiness.proxy.plan import Plan
from bluum_readiness.proxy.recorder import Exchange, Recorder
from bluum_readiness.proxy.rules import FaultRule

__all__ = ["ProxyServer", "parse_upstream"]

_NOT_FORWARDED = frozenset({"host", "content-length"})  # the upstream client sets its own Host and framing


CLOSE_IDLE_GRACE_S = 0.02
"""After ``fresh_connections`` closed idle connections: time for the FINs to go out and the clients' connection
pools (Go's, the JDK's, undici's) to drop those connections, so the next request is not sent on one of them."""


def parse_upstream(upstream: str) -> httpx.URL:
    """The upstream base URL, e.g. ``http://127.0.0.1:8787/v1``; anything else is a ``ConfigError``."""
    try:
        url = httpx.URL(upstream)
    except (httpx.InvalidURL, TypeError) as exc:
        raise ConfigError(f"upstream {upstream!r} is not a URL ({exc}); pass e.g. http://127.0.0.1:8787/v1") from None
    if url.port is not None and not 0 < url.port <= 65535:
        raise ConfigError(f"upstream {upstream!r} has port {url.port}, which is not a port; use 1-65535")
    if url.scheme not in ("http", "https") or not url.host or url.query or url.fragment:
        raise ConfigError(
            f"upstream {upstream!r} must be an http(s) URL with a host and no query; pass e.g. http://127.0.0.1:8787/v1"
        )
    return url


class ProxyServer:
    """A fault-injecting reverse proxy in front of ``upstream``, on ``host``:``port`` (a context manager).

    Paths map one to one: ``<url>/v1/investors`` is forwarded to ``<upstream origin>/v1/investors``, so
    ``base_url`` (``url`` + the upstream's path, e.g. ``…/v1``) is what the integration is given.

    :param upstream: the API's base URL (the twin's ``base_url`` or the real sandbox's).
    :param plan: the initial rules (none: pure pass-through).
    :param recorder: where exchanges go (a fresh ``Recorder`` by default; share one to merge placements).
    :param clock: timestamps of recorded exchanges.
    :param upstream_timeout: how long to wait for the upstream before answering 502.
    :param max_body_bytes: larger request bodies get 413.
    :param pace: called before each request is forwarded upstream (never for faults answered without
        forwarding); returns the seconds to wait first — a shared rate limiter's ``reserve`` keeps the
        integration's traffic under the target's rate limit.
    :param rate_limited: called when the upstream itself answers a forwarded request 429 although ``pace`` kept
        the traffic under its limit (another client shares it); a shared rate limiter's ``slow_down`` slows the
        whole run.

    Thread-safe control from the test's thread: ``set_plan``, ``add_rule``, ``remove_rule``,
    ``clear_faults``, ``exchanges``, ``reset``, and ``fresh_connections``: while True, every response says
    ``Connection: close`` and the connection ends after it, so each request comes on a connection of its own —
    and a transport that resends only when a *reused* connection closes before any answer (Go's
    ``http.Transport``) resends none. Turning it on also closes the connections idle at that moment (kept alive
    from earlier requests), so it holds from the first request on. (Java's ``HttpClient`` resends a GET on any
    connection.)
    """

    def __init__(
        self,
        upstream: str,
        plan: Plan | None = None,
        recorder: Recorder | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Clock | None = None,
        upstream_timeout: float = 60.0,
        max_body_bytes: int = 32 * 1024 * 1024,
        pace: Callable[[], float] | None = None,
        rate_limited: Callable[[], object] | None = None,
    ) -> None:
        self.upstream = parse_upstream(upstream)
        self._via = egress_proxy_for(self.upstream)  # HTTPS_PROXY for an https upstream: a CONNECT tunnel
        self.engine = FaultEngine(plan)
        self.recorder = recorder if recorder is not None else Recorder()
        self._pipeline = Pipeline(self.engine, self.recorder, clock or SystemClock())
        self._origin = str(self.upstream.copy_with(raw_path=b"")).rstrip("/")
        self._timeout = upstream_timeout
        self._max_body = max_body_bytes
        self._pace = pace
        self._rate_limited = rate_limited
        self._sock = bind(host, port)
        self.host = host
        self.port: int = self._sock.getsockname()[1]
        shown = f"[{host}]" if ":" in host else host
        self.url = f"http://{shown}:{self.port}"
        self.base_url = self.url + self.upstream.path.rstrip("/")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._client: UpstreamClient | None = None
        self._connections: set[ClientConnection] = set()  # open client connections (on the loop's thread)
        self._fresh_connections = False

    # -- control from Python ------------------------------------------------------------------------------

    def set_plan(self, plan: Plan) -> None:
        """Replace the rules (counters restart, the RNG is re-seeded from ``plan.seed``)."""
        self.engine.set_plan(plan)

    def add_rule(self, rule: FaultRule) -> None:
        self.engine.add_rule(rule)

    def remove_rule(self, name: str) -> bool:
        return self.engine.remove_rule(name)

    def clear_faults(self) -> None:
        """Remove every rule; recorded exchanges stay."""
        self.engine.clear()

    @property
    def fresh_connections(self) -> bool:
        return self._fresh_connections

    @fresh_connections.setter
    def fresh_connections(self, on: bool) -> None:
        self._fresh_connections = on
        loop = self._loop
        if on and loop is not None and loop.is_running() and self._thread is not threading.current_thread():
            self._call(self._close_idle(), timeout=10.0)

    def exchanges(self, settle: float = 0.5) -> list[Exchange]:
        """Every exchange so far, in arrival order.

        Waits up to ``settle`` seconds for requests in flight to finish first: a client that just timed out
        during a hold may be a few milliseconds ahead of the proxy noticing it left.
        """
        self._pipeline.settle(settle)
        return self.recorder.snapshot()

    def reset(self) -> None:
        """Remove every rule and recorded exchange, and re-seed: as freshly started."""
        self.engine.reset()
        self.recorder.clear()

    # -- lifecycle ----------------------------------------------------------------------------------------

    def start(self, timeout: float = 10.0) -> ProxyServer:
        if self._thread is not None:
            raise HarnessError(f"the proxy on {self.url} is already started; start it once")
        self._loop = new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=f"bluum-proxy:{self.port}", daemon=True)
        self._thread.start()
        try:
            self._call(self._open(), timeout)
        except Exception as exc:
            self.stop()
            raise HarnessError(f"the proxy on {self.url} failed to start: {exc!r}") from exc
        return self

    def stop(self) -> None:
        """Close the listener and every connection (holds end at once), then the loop. Idempotent."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            self._sock.close()
            return
        if loop.is_running():
            try:
                self._call(self._close(), 10.0)
            finally:
                loop.call_soon_threadsafe(loop.stop)
                thread.join(timeout=10)
        if not loop.is_running():
            loop.close()
        self._sock.close()
        self._loop = None

    def _call(self, coro: Any, timeout: float) -> Any:
        assert self._loop is not None
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coro, self._loop)
        return future.result(timeout)

    async def _open(self) -> None:
        self._client = UpstreamClient(self.upstream, self._timeout, via=self._via)
        loop = asyncio.get_running_loop()
        serve, max_body, connections = self._serve_connection, self._max_body, self._connections
        self._server = await loop.create_server(lambda: ClientConnection(serve, max_body, connections), sock=self._sock)

    async def _close_idle(self) -> None:
        closed = [conn for conn in list(self._connections) if conn.close_if_idle()]
        if closed:  # the FINs go out, and the clients' pools see them before the next request is made
            await asyncio.sleep(CLOSE_IDLE_GRACE_S)

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
        tasks = [conn.task for conn in self._connections if conn.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for conn in list(self._connections):  # any whose task had not started yet
            conn.close()
        await asyncio.sleep(0)  # let the transports finish closing before the loop stops
        if self._client is not None:
            await self._client.aclose()

    def __enter__(self) -> ProxyServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- serving ------------------------------------------------------------------------------------------

    async def _serve_connection(self, conn: ClientConnection) -> None:
        try:
            while (request := await conn.next_request()) is not None:
                if isinstance(request, Rejection):
                    await conn.reject(request)
                    break
                if not await self._handle(conn, request):
                    break
        except asyncio.CancelledError:  # stop(): end quietly (asyncio logs a cancelled connection task as an error)
            pass
        finally:
            conn.close()

    async def _handle(self, conn: ClientConnection, req: IncomingRequest) -> bool:
        """Serve one request; False when the connection must end."""
        if req.path == PREFIX or req.path.startswith(PREFIX + "/"):
            if req.method == "GET" and req.path.rstrip("/") == PREFIX + "/exchanges":
                await self._settle(1.0)
            status, body = render(*handle_control(self.engine, self.recorder, req.method, req.path, req.body))
            reply = Respond(status, (("Content-Type", "application/json"),) if body else (), body)
            return await conn.respond(reply, req.method, req.keep_alive)
        request = ProxyRequest(req.method, req.path, req.query, req.headers, req.body, sleep=asyncio.sleep)
        reused = conn.requests > 1
        done = await self._pipeline.process(request, lambda: self._forward(req), reused_connection=reused)
        outcome = done.outcome
        try:
            if isinstance(outcome, Hold):
                await conn.hold(min(outcome.seconds, MAX_FAULT_SECONDS))  # a custom fault's Hold(inf) ends too
        finally:  # before the client can see the outcome: exchanges() is never behind; a client that left while it
            # waited (its timeout, during the pace or the upstream's answer) received nothing
            self._pipeline.finish(done, delivered=not conn.gone)
        if isinstance(outcome, Respond):
            return await conn.respond(outcome, req.method, req.keep_alive and not self.fresh_connections)
        if isinstance(outcome, Abort):
            conn.abort()
        else:
            conn.close()
        return False

    async def _settle(self, timeout: float) -> None:
        """``exchanges(settle=)`` for the control API, without blocking the event loop."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._pipeline.in_flight and loop.time() < deadline:
            await asyncio.sleep(0.005)

    async def _forward(self, req: IncomingRequest) -> Respond:
        assert self._client is not None
        if self._pace is not None:
            wait = self._pace()
            if wait > 0:
                await asyncio.sleep(wait)
        headers = end_to_end(req.headers, drop=_NOT_FORWARDED)
        try:
            response = await self._client.send(req.method, req.target, headers, req.body)
        except httpx.HTTPError as exc:
            detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            raise UpstreamError(f"upstream {self._origin} unreachable: {detail}", exc) from exc
        if response.status == 429 and self._rate_limited is not None:
            self._rate_limited()
        return Respond(response.status, response.headers, response.body, upstream=True)
