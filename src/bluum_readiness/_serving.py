"""Run an ASGI app on a real loopback socket with uvicorn, in a background thread or in the foreground.

Used by the twin, and later by the proxy and the reference webhook receiver: bind first (so a port in use is
a clear error before anything starts), then hand the bound socket to uvicorn.

``BackgroundServer.stop`` is fast (milliseconds, not uvicorn's ~0.15–0.2 s): the serving loop is woken at once
instead of at its next 0.1 s tick, and shutdown polls for open connections every few milliseconds instead of
sleeping 0.1 s first (``_PromptServer``). It is as graceful as uvicorn's own: no new connections, idle ones
closed, requests in flight finished (up to ``timeout_graceful_shutdown``), then the app's lifespan shutdown.

Servers use the C implementations where installed: uvicorn's httptools parser and uvloop's event loop (the
proxy's loop too, ``new_event_loop``). ``BLUUM_READINESS_SERVER_IMPL=pure`` selects h11 and asyncio's own loop
instead (benchmarks compare the two in one run; docs/performance.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import math
import os
import socket
import ssl
import threading
import time
import weakref
from types import TracebackType
from typing import Any, TypedDict

import uvicorn
from uvicorn.config import HTTP_PROTOCOLS
from uvicorn.importer import import_from_string

from bluum_readiness.errors import ConfigError, HarnessError

__all__ = ["IMPL_ENV", "BackgroundServer", "bind", "fast_implementations", "new_event_loop", "uvicorn_options"]

IMPL_ENV = "BLUUM_READINESS_SERVER_IMPL"


def fast_implementations() -> bool:
    """False when ``BLUUM_READINESS_SERVER_IMPL=pure`` asks for the pure-Python HTTP parser and event loop."""
    value = os.environ.get(IMPL_ENV, "").strip().lower()
    if value not in ("", "fast", "pure"):
        raise ConfigError(f"{IMPL_ENV}={value!r} is not an implementation; use fast (the default) or pure")
    return value != "pure"


def _has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def new_event_loop() -> asyncio.AbstractEventLoop:
    """A new event loop: uvloop's where it is installed (not on Windows), else asyncio's."""
    if fast_implementations() and _has("uvloop"):
        import uvloop

        return uvloop.new_event_loop()
    return asyncio.new_event_loop()


class UvicornImpl(TypedDict):
    http: str
    loop: str


def uvicorn_options() -> UvicornImpl:
    """uvicorn's ``http`` and ``loop``: httptools and uvloop where installed, else h11 and asyncio."""
    fast = fast_implementations()
    return {
        "http": "httptools" if fast and _has("httptools") else "h11",
        "loop": "uvloop" if fast and _has("uvloop") else "asyncio",
    }


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port, or a ConfigError that says what to do."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # accepted sockets inherit it: no Nagle delays
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if port and exc.errno in (98, 48):  # EADDRINUSE on Linux, macOS
            raise ConfigError(f"port {port} on {host} is in use; pass --port with a free port (or 0 for any)") from None
        raise ConfigError(f"cannot listen on {host}:{port} ({exc.strerror}); pass a valid --host and --port") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


_SHUTDOWN_POLL_S = 0.002
_HANDSHAKE_GRACE_S = 0.1  # what uvicorn's fixed sleep gives connections in their TLS handshake; here only if any


def _tracking(protocol: type[asyncio.Protocol], opening: weakref.WeakSet[asyncio.Protocol]) -> type[asyncio.Protocol]:
    """``protocol`` (uvicorn's HTTP protocol class) that is in ``opening`` from the moment a connection is accepted
    until uvicorn knows it (``connection_made``: after the TLS handshake, for HTTPS) or it is lost. A handshake that
    fails never gets there; its protocol leaves the weak set when the transport drops it."""

    class Tracked(protocol):  # type: ignore[valid-type,misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            opening.add(self)

        def connection_made(self, transport: Any) -> None:
            opening.discard(self)
            super().connection_made(transport)

        def connection_lost(self, exc: Exception | None) -> None:
            opening.discard(self)
            super().connection_lost(exc)

    Tracked.__name__ = Tracked.__qualname__ = f"Tracked{protocol.__name__}"
    return Tracked


class _PromptServer(uvicorn.Server):
    """``uvicorn.Server`` that stops as soon as asked: ``request_exit()`` (thread-safe) wakes the main loop at
    once, and shutdown waits for connections and request tasks by polling every few milliseconds, not 0.1 s.
    Connections still in their TLS handshake when it stops (``opening``, filled by a ``_tracking`` protocol) are
    waited for too (up to 0.1 s, uvicorn's fixed sleep that covered them), then closed like the others."""

    def __init__(self, config: uvicorn.Config, opening: weakref.WeakSet[asyncio.Protocol] | None = None) -> None:
        super().__init__(config)
        self.opening: weakref.WeakSet[asyncio.Protocol] = opening if opening is not None else weakref.WeakSet()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None

    async def main_loop(self) -> None:
        # uvicorn's loop, with the 0.1 s sleep made interruptible (on_tick keeps its once-per-second work)
        self._wake = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), 0.1)

    def request_exit(self) -> None:
        """Ask the server to stop, from any thread. ``should_exit`` is set first, so a main loop that is not
        running yet sees it at its first tick."""
        self.should_exit = True
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None:
            with contextlib.suppress(RuntimeError):  # the loop already closed: nothing to wake
                loop.call_soon_threadsafe(wake.set)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        servers = getattr(self, "servers", None)
        state = getattr(self, "server_state", None)
        if servers is None or state is None:  # pragma: no cover - a uvicorn without these internals
            await super().shutdown(sockets=sockets)
            return
        for server in servers:  # stop accepting
            server.close()
        for sock in sockets or []:
            sock.close()
        told: set[int] = set()

        def shut_down_new() -> None:  # idle ones close now, busy ones after their response
            for connection in list(state.connections):
                if id(connection) not in told:
                    told.add(id(connection))
                    connection.shutdown()

        shut_down_new()
        loop = asyncio.get_running_loop()
        grace = self.config.timeout_graceful_shutdown  # None: wait as long as it takes (uvicorn's meaning)
        deadline = math.inf if grace is None else loop.time() + grace
        handshakes_until = loop.time() + _HANDSHAKE_GRACE_S

        def busy() -> bool:
            return bool(state.connections or state.tasks or (self.opening and loop.time() < handshakes_until))

        while busy() and not self.force_exit and loop.time() < deadline:
            await asyncio.sleep(_SHUTDOWN_POLL_S)
            shut_down_new()  # connections whose handshake finished meanwhile
        for task in list(state.tasks):  # over the graceful timeout, as uvicorn does
            task.cancel(msg="Task cancelled, timeout graceful shutdown exceeded")
        left = None if deadline == math.inf else max(0.0, deadline - loop.time()) + 0.1
        for server in servers:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(server.wait_closed(), left)
        if not self.force_exit:
            await self.lifespan.shutdown()


class BackgroundServer:
    """An ASGI app served by uvicorn in a daemon thread; a context manager. ``url`` is known once started.

    ``http`` picks uvicorn's HTTP implementation (default: ``uvicorn_options()``); ``"h11"`` sends header names
    as the app gave them, where httptools lowercases them.
    ``name`` names its thread (``NAME:PORT``): the suite's own servers are named ``bluum-…``, so the log capture
    tells their records from the integration's (``harness.SUITE_THREADS``).
    """

    def __init__(
        self,
        app: Any,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        ssl_certfile: str | None = None,
        ssl_keyfile: str | None = None,
        log_level: str = "warning",
        http: str | None = None,
        name: str = "uvicorn",
    ) -> None:
        self._sock = bind(host, port)
        self.host = host
        self.port: int = self._sock.getsockname()[1]
        scheme = "https" if ssl_certfile else "http"
        self.url = f"{scheme}://{host}:{self.port}"
        impl = uvicorn_options()
        opening: weakref.WeakSet[asyncio.Protocol] = weakref.WeakSet()
        protocol = import_from_string(HTTP_PROTOCOLS[http or impl["http"]])
        config = uvicorn.Config(
            app,
            log_level=log_level,
            lifespan="on",
            ssl_certfile=ssl_certfile,
            ssl_keyfile=ssl_keyfile,
            ssl_version=ssl.PROTOCOL_TLS_SERVER,
            timeout_graceful_shutdown=2,
            loop=impl["loop"],
            http=_tracking(protocol, opening),
        )
        self._server = _PromptServer(config, opening)
        self._thread = threading.Thread(target=self._run, name=f"{name}:{self.port}", daemon=True)
        self._error: BaseException | None = None

    def _run(self) -> None:
        try:
            self._server.run(sockets=[self._sock])
        except BaseException as exc:  # surfaced by start()
            self._error = exc

    def start(self, timeout: float = 10.0) -> BackgroundServer:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if self._error is not None or not self._thread.is_alive():
                raise HarnessError(f"the server on {self.url} failed to start: {self._error!r}")
            if time.monotonic() > deadline:
                raise HarnessError(f"the server on {self.url} did not start within {timeout} s")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        """Stop serving (gracefully: requests in flight are answered) and wait for the thread; milliseconds
        when the server is idle."""
        self._server.request_exit()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self._sock.close()

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
