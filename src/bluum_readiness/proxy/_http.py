"""HTTP/1.1 on asyncio streams with h11: read one request, write one response, hold, close, reset.

The proxy needs what an ASGI server cannot give: closing a connection with no response, or resetting it.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from http import HTTPStatus

import h11

from bluum_readiness.proxy.faults.base import Headers, Respond

__all__ = ["HOP_BY_HOP", "IncomingRequest", "abort", "end_to_end", "hold", "read_request", "write_response"]

HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer", "trailers",
     "transfer-encoding", "upgrade"}
)  # fmt: skip
_READ = 65536


class IncomingRequest:
    """A complete request read from a client connection."""

    def __init__(self, head: h11.Request, body: bytes) -> None:
        self.method = head.method.decode("ascii")
        self.target = head.target.decode("latin-1")
        self.path, _, self.query = self.target.partition("?")
        self.headers: Headers = tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in head.headers.raw_items())
        self.body = body


def end_to_end(headers: Headers, *, drop: frozenset[str] = frozenset()) -> Headers:
    """``headers`` without hop-by-hop ones (including those the Connection header names) and ``drop``."""
    listed = {t.strip().lower() for k, v in headers if k.lower() == "connection" for t in v.split(",")}
    skip = HOP_BY_HOP | listed | drop
    return tuple((k, v) for k, v in headers if k.lower() not in skip)


async def read_request(
    conn: h11.Connection, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, max_body: int
) -> IncomingRequest | None:
    """The next request on ``conn``, or None when the client closed the connection or broke the protocol."""
    head: h11.Request | None = None
    chunks: list[bytes] = []
    size = 0
    while True:
        try:
            event = conn.next_event()
        except h11.RemoteProtocolError as exc:
            await _send_plain(conn, writer, exc.error_status_hint, f"bad request: {exc}")
            return None
        if event is h11.NEED_DATA:
            if conn.they_are_waiting_for_100_continue:
                writer.write(conn.send(h11.InformationalResponse(status_code=100, headers=[])))
            conn.receive_data(await reader.read(_READ))
        elif isinstance(event, h11.Request):
            head = event
        elif isinstance(event, h11.Data):
            size += len(event.data)
            if size > max_body:
                await _send_plain(conn, writer, 413, f"request body over {max_body} bytes")
                return None
            chunks.append(bytes(event.data))
        elif isinstance(event, h11.EndOfMessage) and head is not None:
            return IncomingRequest(head, b"".join(chunks))
        else:  # ConnectionClosed, PAUSED
            return None


async def write_response(conn: h11.Connection, writer: asyncio.StreamWriter, response: Respond, method: str) -> bool:
    """Send ``response`` (framing recomputed); False when the client is gone."""
    no_body = method == "HEAD" or response.status in (204, 304) or response.status < 200
    headers = list(
        end_to_end(response.headers, drop=frozenset() if method == "HEAD" else frozenset({"content-length"}))
    )
    if not no_body:
        headers.append(("Content-Length", str(len(response.body))))
    try:
        reason = HTTPStatus(response.status).phrase.encode()
    except ValueError:
        reason = b""
    try:
        writer.write(conn.send(h11.Response(status_code=response.status, headers=headers, reason=reason)))
        if response.body and not no_body:
            writer.write(conn.send(h11.Data(data=response.body)))
        writer.write(conn.send(h11.EndOfMessage()))
        await writer.drain()
    except (ConnectionError, h11.LocalProtocolError):
        return False
    return True


async def _send_plain(conn: h11.Connection, writer: asyncio.StreamWriter, status: int, message: str) -> None:
    body = f'{{"error": "bluum-readiness proxy: {message}", "status": {status}}}'.encode()
    response = Respond(status, (("Content-Type", "application/json"), ("Connection", "close")), body)
    await write_response(conn, writer, response, "GET")


async def hold(reader: asyncio.StreamReader, seconds: float) -> None:
    """Stay silent for ``seconds``, or until the client closes the connection (it gave up), if sooner."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while (remaining := deadline - loop.time()) > 0:
        try:
            if not await asyncio.wait_for(reader.read(_READ), remaining):
                return
        except (TimeoutError, ConnectionError):
            return


def abort(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP RST: SO_LINGER on with a zero timeout, then drop the socket."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
    writer.transport.abort()
