"""One client connection to the proxy, as an asyncio protocol: requests parsed by httptools as bytes arrive.

The proxy needs what an ASGI server cannot give (closing a connection with no response, resetting it), so it
serves HTTP/1.1 itself. ``data_received`` feeds llhttp; each complete request is queued, and the server's
handler takes them one at a time with ``next_request()`` (pipelined requests wait their turn; reading pauses
while ``MAX_QUEUED`` wait). The handler answers with ``respond``, or carries out a fault with ``hold``,
``close`` or ``abort``.

A request that breaks HTTP/1.1 is answered ``400`` (``431`` when its head passes ``MAX_HEAD_BYTES``, ``413``
when its body passes the proxy's limit) after the requests before it, and the connection closes.
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import socket
import struct
from typing import Any, cast

import httptools

from bluum_readiness.proxy._http import BadHeader, IncomingRequest, has_body, response_head
from bluum_readiness.proxy.faults.base import Respond

__all__ = ["MAX_HEAD_BYTES", "MAX_QUEUED", "ClientConnection", "Rejection", "plain_error"]

log = logging.getLogger("bluum_readiness.proxy")

MAX_HEAD_BYTES = 64 * 1024  # a request line and headers longer than this get 431
MAX_QUEUED = 8  # pipelined requests parsed ahead of the one being answered before reading pauses


class Rejection:
    """A request the proxy refuses to serve: answered with ``status`` and ``message``, then the connection ends."""

    __slots__ = ("message", "status")

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.message = message


def plain_error(status: int, message: str) -> Respond:
    """The proxy's own error answer (``{"error": "bluum-readiness proxy: …", "status": …}``)."""
    body = json.dumps({"error": f"bluum-readiness proxy: {message}", "status": status}).encode()
    return Respond(status, (("Content-Type", "application/json"),), body)


class ClientConnection(asyncio.Protocol):
    """The server side of one connection. ``serve(connection)`` is started when it opens (a coroutine that
    loops over ``next_request()``); it must end by calling ``close`` or ``abort``. While open, the connection
    is in ``registry`` (the server's set of open connections). ``requests``: how many requests ``next_request``
    has handed out (above 1, the one being answered came on a reused connection)."""

    def __init__(self, serve: Any, max_body: int, registry: set[ClientConnection] | None = None) -> None:
        self._serve = serve
        self._loop = asyncio.get_running_loop()  # made by the server's loop; kept: each look-up costs a getpid()
        self._registry = registry if registry is not None else set()
        self._max_body = max_body
        self._parser = httptools.HttpRequestParser(self)
        self._transport: asyncio.Transport | None = None
        self._queue: collections.deque[IncomingRequest | Rejection] = collections.deque()
        self._waiter: asyncio.Future[None] | None = None  # next_request() / hold() waiting for news
        self._drained: asyncio.Future[None] | None = None  # respond() waiting for the write buffer to drain
        self._ended = False  # the client closed (EOF or connection lost): nothing more will arrive
        self._discarding = False  # a request ended the connection: later bytes are not requests of ours
        self._reading_paused = False
        self._writing_paused = False
        self._answering = False  # the handler holds a request it has not finished answering
        # the request being parsed
        self._in_message = False  # part of a request has arrived, not all of it
        self._in_head = False
        self._head_bytes = 0  # bytes read while a head was incomplete: bounds what llhttp/httptools buffer
        self._head_size = 0  # the parsed head (target, names, values): the limit however the bytes arrived
        self._url: list[bytes] = []
        self._headers: list[tuple[str, str]] = []
        self._body: list[bytes] = []
        self._body_size = 0
        self._expect_continue = False
        self.task: asyncio.Task[None] | None = None
        self.requests = 0

    # -- asyncio.Protocol -------------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's transports are not subclasses
        self._registry.add(self)
        self.task = self._loop.create_task(self._serve(self))

    def data_received(self, data: bytes) -> None:
        if self._discarding:
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            # on_message_complete has run: the request is queued. What follows is another protocol (an
            # Upgrade or CONNECT); the proxy does not speak it, so that request is the connection's last.
            self._last_request_ends_connection()
        except httptools.HttpParserError as exc:
            if not self._discarding:  # (else: bytes after "Connection: close", which llhttp refuses; ignored)
                self._reject(400, f"bad request: {exc}")
        if self._in_head and not self._discarding:  # a head still incomplete: bound what llhttp buffers of it
            self._head_bytes += len(data)
            if self._head_bytes > MAX_HEAD_BYTES and not self._refused():
                self._reject(431, f"request head over {MAX_HEAD_BYTES} bytes")
        if len(self._queue) >= MAX_QUEUED and not self._reading_paused and self._transport is not None:
            self._transport.pause_reading()
            self._reading_paused = True
        self._wake()

    def eof_received(self) -> bool:
        self._ended = True
        self._wake()
        return True  # half-closed: the answers to what it sent can still be written

    def connection_lost(self, exc: Exception | None) -> None:
        self._registry.discard(self)
        self._ended = True
        self._wake()
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)

    def pause_writing(self) -> None:
        self._writing_paused = True

    def resume_writing(self) -> None:
        self._writing_paused = False
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)

    # -- httptools callbacks ----------------------------------------------------------------------------

    def on_message_begin(self) -> None:
        self._in_message = True
        self._in_head = True
        self._head_bytes = 0
        self._head_size = 0
        self._url = []
        self._headers = []
        self._body = []
        self._body_size = 0
        self._expect_continue = False

    def on_url(self, url: bytes) -> None:
        self._url.append(url)
        self._count_head(len(url))

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name.decode("latin-1"), value.decode("latin-1")))
        self._count_head(len(name) + len(value) + 4)  # "name: value\r\n"
        if len(name) == 6 and name.lower() == b"expect":
            self._expect_continue = value.strip().lower() == b"100-continue"

    def on_headers_complete(self) -> None:
        self._in_head = False
        if (
            self._expect_continue
            and not self._queue
            and not self._answering  # this request is next, and no answer to an earlier one is pending
            and self._parser.get_http_version() == "1.1"
            and self._transport is not None
        ):
            self._transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def on_body(self, body: bytes) -> None:
        if self._refused():
            return
        within = self._body_size <= self._max_body
        self._body_size += len(body)
        if self._body_size <= self._max_body:
            self._body.append(body)
        elif within:  # just went over: answer 413 now (after the requests before it), read no more of it
            self._body = []
            self._reject(413, f"request body over {self._max_body} bytes")

    def on_message_complete(self) -> None:
        self._in_message = False
        if self._body_size > self._max_body or self._refused():  # already rejected
            return
        parser = self._parser
        keep_alive = parser.should_keep_alive()
        target = b"".join(self._url).decode("latin-1")
        body = b"".join(self._body) if self._body else b""
        self._queue.append(IncomingRequest(parser.get_method().decode("ascii"), target, tuple(self._headers), body,
                                           keep_alive))  # fmt: skip
        if not keep_alive:
            self._discarding = True

    # -- for the handler --------------------------------------------------------------------------------

    async def next_request(self) -> IncomingRequest | Rejection | None:
        """The next complete request, in order; None once the client has closed and none is left."""
        self._answering = False
        while not self._queue:
            if self._ended or self._transport is None or self._transport.is_closing():
                return None
            self._waiter = self._loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        request = self._queue.popleft()
        self._answering = True
        self.requests += 1
        if self._reading_paused and len(self._queue) < MAX_QUEUED and self._transport is not None:
            self._reading_paused = False
            self._transport.resume_reading()
        return request

    @property
    def gone(self) -> bool:
        """The client closed its side (EOF) or the connection while it waited: it gave up, as ``hold`` reads it (an
        HTTP client that half-closes and still reads the answer is not one the suite meets)."""
        return self._ended or self._transport is None or self._transport.is_closing()

    async def respond(self, response: Respond, method: str, keep_alive: bool) -> bool:
        """Send ``response`` (framing recomputed); False when the connection cannot carry another request."""
        transport = self._transport
        if transport is None or transport.is_closing():
            return False
        try:
            head = response_head(response.status, response.headers, method, len(response.body), keep_alive)
        except BadHeader as exc:  # a fault made up a header that cannot be sent: its bug, said as a 500
            log.error("a response header cannot be sent: %s", exc)
            response = plain_error(500, f"{exc}; fix the fault (see CREATING_FAULTS.md)")
            method, keep_alive = "GET", False
            head = response_head(500, response.headers, method, len(response.body), keep_alive)
        if has_body(method, response.status) and response.body:
            transport.writelines((head, response.body))
        else:
            transport.write(head)
        if self._writing_paused:
            self._drained = self._loop.create_future()
            try:
                await self._drained
            finally:
                self._drained = None
        return keep_alive and not transport.is_closing()

    async def reject(self, rejection: Rejection) -> None:
        """Answer a refused request, then close."""
        await self.respond(plain_error(rejection.status, rejection.message), "GET", keep_alive=False)
        self.close()

    async def hold(self, seconds: float) -> None:
        """Stay silent for ``seconds``, or until the client closes the connection (it gave up), if sooner."""
        self._discarding = True  # the connection ends after the hold: what else the client sends is dropped
        self._queue.clear()
        if self._reading_paused and self._transport is not None:
            self._reading_paused = False
            self._transport.resume_reading()  # so that the client leaving is noticed
        loop = self._loop
        deadline = loop.time() + seconds
        while not self._ended and (remaining := deadline - loop.time()) > 0:
            self._waiter = loop.create_future()
            timer = loop.call_later(remaining, _resolve, self._waiter)
            try:
                await self._waiter
            finally:
                timer.cancel()
                self._waiter = None

    def close_if_idle(self) -> bool:
        """Close (FIN) when the handler waits for a request and no part of one has arrived; True when it did. A
        request the client sends meanwhile meets a connection closed before any answer, which HTTP clients send
        again on a new one."""
        if self._answering or self._queue or self._in_message or self._waiter is None:
            return False
        self.close()
        return True

    def close(self) -> None:
        """Close with an orderly FIN (after what was written)."""
        if self._transport is not None and not self._transport.is_closing():
            self._transport.close()

    def abort(self) -> None:
        """Close with a TCP RST: SO_LINGER on with a zero timeout, then drop the socket."""
        transport = self._transport
        if transport is None:
            return
        sock = transport.get_extra_info("socket")
        if sock is not None:
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except OSError:
                pass
        transport.abort()

    # -- internals --------------------------------------------------------------------------------------

    def _count_head(self, size: int) -> None:
        """Add to the parsed head's size; past ``MAX_HEAD_BYTES`` the request is refused with 431 (once).

        Counted from what llhttp parsed, so the limit holds whether the head arrives in one read or many
        (counting the bytes of reads that left the head incomplete missed a head that came whole)."""
        self._head_size += size
        if self._head_size > MAX_HEAD_BYTES and not self._refused():
            self._reject(431, f"request head over {MAX_HEAD_BYTES} bytes")

    def _refused(self) -> bool:
        """Whether the request being parsed was refused (the last queued item is its rejection)."""
        return bool(self._queue) and isinstance(self._queue[-1], Rejection)

    def _reject(self, status: int, message: str) -> None:
        self._queue.append(Rejection(status, message))
        self._discarding = True

    def _last_request_ends_connection(self) -> None:
        self._discarding = True
        if self._queue and isinstance(self._queue[-1], IncomingRequest):
            self._queue[-1].keep_alive = False

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
