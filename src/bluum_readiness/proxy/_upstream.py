"""The proxy's upstream client: HTTP/1.1 with h11 on asyncio streams, keep-alive connections reused.

It replaces ``httpx.AsyncClient`` on the proxy's hot path: the proxy only needs "send these bytes, give me
the status, raw headers and raw body", and httpx's general machinery (httpcore's pool and locks, anyio,
a failing ``import sniffio`` per lock) cost more than a millisecond per forwarded request — more than the
whole budget (docs/performance.md). Bodies are passed through as received (no decompression, chunked
framing removed), as ``aiter_raw`` did.

Errors are ``httpx`` exceptions (``ConnectError``, ``ConnectTimeout``, ``ReadTimeout``, ``ReadError``,
``RemoteProtocolError``), so callers and messages stay what they were with httpx.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from dataclasses import dataclass

import h11
import httpx

__all__ = ["UpstreamClient", "UpstreamResponse"]

_READ = 65536
_IDLE_S = 4.0  # reuse an idle connection only this long (uvicorn closes idle keep-alive after 5 s)
_MAX_IDLE = 32


@dataclass(frozen=True)
class UpstreamResponse:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


class _Conn:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.h11 = h11.Connection(h11.CLIENT)
        self.idle_since = 0.0

    def usable(self, now: float) -> bool:
        return (
            now - self.idle_since < _IDLE_S
            and not self.reader.at_eof()
            and not self.writer.transport.is_closing()
            and self.h11.our_state is h11.IDLE
        )

    def close(self) -> None:
        if not self.writer.transport.is_closing():
            self.writer.transport.abort()


class UpstreamClient:
    """Requests to one origin (``http(s)://host[:port]``), each within ``timeout`` seconds.

    https upstreams are verified against ``ssl_context`` (default: httpx's, i.e. certifi's CA bundle).
    """

    def __init__(self, origin: httpx.URL, timeout: float, ssl_context: ssl.SSLContext | None = None) -> None:
        self.scheme = origin.scheme
        self.host = origin.host
        self.port = origin.port or (443 if origin.scheme == "https" else 80)
        default_port = origin.port is None or origin.port == (443 if origin.scheme == "https" else 80)
        self.host_header = self.host if default_port else f"{self.host}:{self.port}"
        self.timeout = timeout
        self._ssl = ssl_context
        self._idle: list[_Conn] = []

    async def send(
        self, method: str, target: str, headers: tuple[tuple[str, str], ...], body: bytes
    ) -> UpstreamResponse:
        """Send one request (``target``: path and query); ``headers`` exclude Host and framing headers."""
        conn = self._take()
        try:
            if conn is None:
                conn = await self._open()
            async with asyncio.timeout(self.timeout):
                response = await self._exchange(conn, method, target, headers, body)
        except TimeoutError:
            if conn is not None:
                conn.close()
            raise httpx.ReadTimeout(f"no answer from {self.host_header} within {self.timeout:g} s") from None
        except (OSError, h11.ProtocolError, asyncio.IncompleteReadError) as exc:
            if conn is not None:
                conn.close()
            if isinstance(exc, h11.ProtocolError | asyncio.IncompleteReadError):
                raise httpx.RemoteProtocolError(str(exc) or type(exc).__name__) from exc
            raise httpx.ReadError(str(exc) or type(exc).__name__) from exc
        except BaseException:  # cancelled mid-exchange: the connection's state is unknown
            if conn is not None:
                conn.close()
            raise
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
        if conn.h11.our_state is h11.DONE and conn.h11.their_state is h11.DONE and len(self._idle) < _MAX_IDLE:
            conn.h11.start_next_cycle()
            conn.idle_since = time.monotonic()
            self._idle.append(conn)
        else:
            conn.close()

    async def _open(self) -> _Conn:
        tls: ssl.SSLContext | None = None
        if self.scheme == "https":
            if self._ssl is None:
                self._ssl = httpx.create_ssl_context(trust_env=False)
            tls = self._ssl
        try:
            async with asyncio.timeout(self.timeout):
                reader, writer = await asyncio.open_connection(
                    self.host, self.port, ssl=tls, server_hostname=self.host if tls else None, limit=_READ
                )
        except TimeoutError:
            raise httpx.ConnectTimeout(f"connecting to {self.host_header} took over {self.timeout:g} s") from None
        except OSError as exc:
            raise httpx.ConnectError(str(exc) or type(exc).__name__) from exc
        return _Conn(reader, writer)

    async def _exchange(
        self, conn: _Conn, method: str, target: str, headers: tuple[tuple[str, str], ...], body: bytes
    ) -> UpstreamResponse:
        framing = [("Content-Length", str(len(body)))] if body or method in ("POST", "PUT", "PATCH") else []
        head = h11.Request(method=method, target=target, headers=[("Host", self.host_header), *headers, *framing])
        data = conn.h11.send(head) or b""
        if body:
            data += conn.h11.send(h11.Data(data=body)) or b""
        data += conn.h11.send(h11.EndOfMessage()) or b""
        conn.writer.write(data)
        await conn.writer.drain()
        response: h11.Response | None = None
        chunks: list[bytes] = []
        while True:
            event = conn.h11.next_event()
            if event is h11.NEED_DATA:
                received = await conn.reader.read(_READ)
                conn.h11.receive_data(received)  # b"" is EOF: h11 then reports ConnectionClosed or an error
            elif isinstance(event, h11.Response):
                response = event
            elif isinstance(event, h11.Data):
                chunks.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                assert response is not None
                raw = tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers.raw_items())
                return UpstreamResponse(response.status_code, raw, b"".join(chunks))
            elif isinstance(event, h11.ConnectionClosed):
                raise h11.RemoteProtocolError("the upstream closed the connection before answering", 502)
            # InformationalResponse (1xx): keep reading for the final response
