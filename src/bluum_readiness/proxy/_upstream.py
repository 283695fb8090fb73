"""The proxy's upstream client: HTTP/1.1 on asyncio protocols, responses parsed by httptools, keep-alive reused.

The proxy only needs "send these bytes, give me the status, raw headers and raw body", so it does not use
``httpx.AsyncClient`` (httpcore's pool, anyio locks and a failing ``import sniffio`` per lock cost more than a
millisecond per request: docs/performance.md). Bodies are passed through as received (no decompression;
chunked framing removed). A response to HEAD ends with its head (llhttp cannot be told a body is not coming),
so that connection is not reused.

Errors are ``httpx`` exceptions (``ConnectError``, ``ConnectTimeout``, ``ReadTimeout``, ``ReadError``,
``RemoteProtocolError``), so callers and messages stay what they were with httpx.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from dataclasses import dataclass
from typing import cast

import httptools
import httpx

from bluum_readiness._client_tls import default_tls_context
from bluum_readiness.proxy._egress import tunnel
from bluum_readiness.proxy._http import BadHeader, encode_fields

__all__ = ["UpstreamClient", "UpstreamResponse"]

_IDLE_S = 4.0  # reuse an idle connection only this long (uvicorn closes idle keep-alive after 5 s)
_MAX_IDLE = 32
_CLOSED_EARLY = "the upstream closed the connection before answering"


@dataclass(frozen=True)
class UpstreamResponse:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


class _Conn(asyncio.Protocol):
    """One connection to the upstream; at most one exchange at a time (``exchange``)."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self._loop = asyncio.get_running_loop()  # made by the client's loop; kept: each look-up costs a getpid()
        self.idle_since = 0.0
        self.reusable = True  # false once anything makes the connection's state unknown
        self._parser = httptools.HttpResponseParser(self)
        self._future: asyncio.Future[UpstreamResponse] | None = None
        self._head_only = False
        self._status = 0
        self._headers: list[tuple[str, str]] = []
        self._body: list[bytes] = []
        self._in_body = False

    def usable(self, now: float) -> bool:
        return (
            self.reusable
            and now - self.idle_since < _IDLE_S
            and self.transport is not None
            and not self.transport.is_closing()
        )

    def close(self) -> None:
        self.reusable = False
        if self.transport is not None and not self.transport.is_closing():
            self.transport.abort()

    def exchange(self, data: bytes, head_only: bool) -> asyncio.Future[UpstreamResponse]:
        """Write a request; the future gets its final response (1xx responses are skipped)."""
        assert self.transport is not None and self._future is None
        self._future = future = self._loop.create_future()
        self._head_only = head_only
        self.transport.write(data)
        return future

    # -- asyncio.Protocol -------------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports are not subclasses

    def data_received(self, data: bytes) -> None:
        if self._future is None or self._future.done():  # bytes nobody asked for: the state is unknown
            self.close()
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(httpx.RemoteProtocolError("the upstream switched protocols; the proxy speaks HTTP/1.1 only"))
        except httptools.HttpParserError as exc:
            self._fail(httpx.RemoteProtocolError(f"the upstream's response is not valid HTTP/1.1: {exc}"))

    def eof_received(self) -> bool:
        self.reusable = False
        if self._future is not None and not self._future.done():
            if self._in_body and not self._framed():  # a body delimited by the end of the connection
                self._complete()
            else:
                self._fail(httpx.RemoteProtocolError(_CLOSED_EARLY))
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.reusable = False
        if self._future is not None and not self._future.done():
            error = httpx.ReadError(str(exc) or type(exc).__name__) if exc else httpx.RemoteProtocolError(_CLOSED_EARLY)
            self._fail(error)

    # -- httptools callbacks ----------------------------------------------------------------------------

    def on_message_begin(self) -> None:
        self._headers = []
        self._body = []
        self._in_body = False

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name.decode("latin-1"), value.decode("latin-1")))

    def on_headers_complete(self) -> None:
        self._status = self._parser.get_status_code()
        self._in_body = True
        if self._head_only and self._status >= 200:
            self.reusable = False  # llhttp will wait for a body of Content-Length bytes that never comes
            self._complete()

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        if self._status < 200:  # 1xx: keep reading for the final response
            return
        if not self._parser.should_keep_alive():
            self.reusable = False
        self._complete()

    # -- internals --------------------------------------------------------------------------------------

    def _framed(self) -> bool:
        """The response has Content-Length or is chunked: its body's end is known (else it ends at EOF)."""
        for name, value in self._headers:
            lower = name.lower()
            if lower == "content-length" or (lower == "transfer-encoding" and "chunked" in value.lower()):
                return True
        return False

    def _complete(self) -> None:
        future, self._future = self._future, None
        self._in_body = False
        if future is not None and not future.done():
            body = b"".join(self._body) if self._body else b""
            future.set_result(UpstreamResponse(self._status, tuple(self._headers), body))

    def _fail(self, error: Exception) -> None:
        future, self._future = self._future, None
        self.close()
        if future is not None and not future.done():
            future.set_exception(error)


class UpstreamClient:
    """Requests to one origin (``http(s)://host[:port]``), each within ``timeout`` seconds.

    https upstreams are verified against ``ssl_context`` (default: the suite's public one, ``_client_tls``: certifi's
    CA bundle, or ``SSL_CERT_FILE``'s as for the preflight), reached through ``via``'s ``CONNECT`` tunnel when given
    (``_egress``: the network's HTTP proxy).
    """

    def __init__(
        self,
        origin: httpx.URL,
        timeout: float,
        ssl_context: ssl.SSLContext | None = None,
        via: httpx.URL | None = None,
    ) -> None:
        self.scheme = origin.scheme
        self.host = origin.host
        self.port = origin.port or (443 if origin.scheme == "https" else 80)
        default_port = origin.port is None or origin.port == (443 if origin.scheme == "https" else 80)
        self.host_header = self.host if default_port else f"{self.host}:{self.port}"
        self.timeout = timeout
        self._ssl = ssl_context
        self._via = via if self.scheme == "https" else None
        self._idle: list[_Conn] = []

    async def send(
        self, method: str, target: str, headers: tuple[tuple[str, str], ...], body: bytes
    ) -> UpstreamResponse:
        """Send one request (``target``: path and query); ``headers`` exclude Host and framing headers."""
        try:
            fields = encode_fields(headers)
        except BadHeader as exc:
            raise httpx.LocalProtocolError(str(exc)) from None
        framing = b"Content-Length: %d\r\n" % len(body) if body or method in ("POST", "PUT", "PATCH") else b""
        head = b"%s %s HTTP/1.1\r\nHost: %s\r\n%s%s\r\n" % (
            method.encode("ascii"), target.encode("latin-1"), self.host_header.encode("ascii"), fields, framing
        )  # fmt: skip
        data = head + body if body else head
        conn = self._take()
        if conn is None:
            conn = await self._open()
        future = conn.exchange(data, head_only=method == "HEAD")
        timer = conn._loop.call_later(self.timeout, _time_out, future, self.host_header, self.timeout)
        try:
            response = await future
        except BaseException:  # an error, a timeout or cancelled mid-exchange: the connection's state is unknown
            conn.close()
            raise
        finally:
            timer.cancel()
        self._release(conn)
        return response

    async def aclose(self) -> None:
        for conn in self._idle:
            conn.close()
        self._idle.clear()

    def _take(self) -> _Conn | None:
        now = time.monotonic()
        while self._idle:
            conn = self._idle.pop()
            if conn.usable(now):
                return conn
            conn.close()
        return None

    def _release(self, conn: _Conn) -> None:
        if conn.reusable and len(self._idle) < _MAX_IDLE and conn.transport is not None:
            conn.idle_since = time.monotonic()
            self._idle.append(conn)
        else:
            conn.close()

    async def _open(self) -> _Conn:
        tls: ssl.SSLContext | None = None
        if self.scheme == "https":
            if self._ssl is None:
                self._ssl = default_tls_context()
            tls = self._ssl
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.timeout):
                if self._via is not None and tls is not None:
                    conn = _Conn()
                    await tunnel(self._via, self.host, self.port, tls, conn)
                    return conn
                _, conn = await loop.create_connection(
                    _Conn, self.host, self.port, ssl=tls, server_hostname=self.host if tls else None
                )
        except TimeoutError:
            raise httpx.ConnectTimeout(f"connecting to {self.host_header} took over {self.timeout:g} s") from None
        except OSError as exc:
            raise httpx.ConnectError(str(exc) or type(exc).__name__) from exc
        return conn


def _time_out(future: asyncio.Future[UpstreamResponse], host: str, timeout: float) -> None:
    if not future.done():
        future.set_exception(httpx.ReadTimeout(f"no answer from {host} within {timeout:g} s"))
