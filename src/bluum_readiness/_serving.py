"""Run an ASGI app on a real loopback socket with uvicorn, in a background thread or in the foreground.

Used by the twin, and later by the proxy and the reference webhook receiver: bind first (so a port in use is
a clear error before anything starts), then hand the bound socket to uvicorn.
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from types import TracebackType
from typing import Any

import uvicorn

from bluum_readiness.errors import ConfigError, HarnessError

__all__ = ["BackgroundServer", "bind"]


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


class BackgroundServer:
    """An ASGI app served by uvicorn in a daemon thread; a context manager. ``url`` is known once started."""

    def __init__(
        self,
        app: Any,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        ssl_certfile: str | None = None,
        ssl_keyfile: str | None = None,
        log_level: str = "warning",
    ) -> None:
        self._sock = bind(host, port)
        self.host = host
        self.port: int = self._sock.getsockname()[1]
        scheme = "https" if ssl_certfile else "http"
        self.url = f"{scheme}://{host}:{self.port}"
        config = uvicorn.Config(
            app,
            log_level=log_level,
            lifespan="on",
            ssl_certfile=ssl_certfile,
            ssl_keyfile=ssl_keyfile,
            ssl_version=ssl.PROTOCOL_TLS_SERVER,
            timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name=f"uvicorn:{self.port}", daemon=True)
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
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
