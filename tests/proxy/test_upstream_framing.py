"""The upstream client against a scripted loopback server sending exact bytes: how a response ends, when a
connection is reused, and every way an upstream can fail (as the httpx exceptions the proxy maps to 502)."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from bluum_readiness._serving import IMPL_ENV, new_event_loop
from bluum_readiness.proxy._upstream import UpstreamClient


class Scripted:
    """A loopback server answering the n-th request it reads on any connection with ``answers[n]`` (raw bytes);
    ``None`` closes the connection instead, ``b""`` answers nothing. Counts the connections it accepted."""

    def __init__(self, answers: list[bytes | None]) -> None:
        self.answers = answers
        self.connections = 0
        self.requests: list[bytes] = []
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._sock.settimeout(0.05)
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            conn.settimeout(5)
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            self._answer(conn)
        except OSError:  # the client went away (a timeout test) or the server is closing
            pass

    def _answer(self, conn: socket.socket) -> None:
        buffer = b""
        with conn:
            while not self._stop.is_set():
                while b"\r\n\r\n" not in buffer:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buffer += chunk
                head, buffer = buffer.split(b"\r\n\r\n", 1)
                self.requests.append(head)
                n = len(self.requests) - 1
                answer = self.answers[n] if n < len(self.answers) else None
                if answer is None:
                    return
                conn.sendall(answer)
                if b"Connection: close" in answer:
                    return

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._sock.close()


@pytest.fixture(params=["fast", "pure"])
def loop_impl(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(IMPL_ENV, request.param)
    return str(request.param)


def exchange(server: Scripted, requests: list[tuple[str, bytes]], timeout: float = 5) -> tuple[list[Any], int]:
    """Send ``(method, body)`` requests one after the other; (responses or the exceptions raised, idle pool)."""

    async def scenario() -> tuple[list[Any], int]:
        client = UpstreamClient(httpx.URL(f"http://127.0.0.1:{server.port}"), timeout=timeout)
        results: list[Any] = []
        try:
            for method, body in requests:
                try:
                    results.append(await client.send(method, "/v1/x", (("X-Test", "1"),), body))
                except httpx.HTTPError as exc:
                    results.append(exc)
            return results, len(client._idle)
        finally:
            await client.aclose()

    loop = new_event_loop()
    try:
        return loop.run_until_complete(scenario())
    finally:
        loop.close()


@pytest.fixture
def scripted() -> Iterator[Any]:
    servers: list[Scripted] = []

    def make(answers: list[bytes | None]) -> Scripted:
        servers.append(Scripted(answers))
        return servers[-1]

    yield make
    for server in servers:
        server.close()


OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


def test_keep_alive_reuses_one_connection(scripted: Any, loop_impl: str) -> None:
    server = scripted([OK, OK, OK])
    responses, idle = exchange(server, [("GET", b""), ("POST", b"{}"), ("GET", b"")])
    assert [(r.status, r.body) for r in responses] == [(200, b"ok")] * 3
    assert server.connections == 1 and idle == 1
    assert server.requests[1].startswith(b"POST /v1/x HTTP/1.1\r\nHost: 127.0.0.1:")
    assert b"\r\nX-Test: 1\r\nContent-Length: 2" in server.requests[1]


def test_a_body_delimited_by_the_end_of_the_connection_arrives_whole(scripted: Any, loop_impl: str) -> None:
    server = scripted([b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end", OK])
    responses, idle = exchange(server, [("GET", b""), ("GET", b"")])
    assert (responses[0].status, responses[0].body) == (200, b"until the end")
    assert responses[1].status == 200 and server.connections == 2  # the closed one was not reused


def test_interim_1xx_answers_are_skipped(scripted: Any, loop_impl: str) -> None:
    server = scripted([b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" + OK])
    (response,), _ = exchange(server, [("POST", b"body")])
    assert (response.status, response.body, response.headers) == (200, b"ok", (("Content-Length", "2"),))


def test_a_head_answer_ends_with_its_head_and_its_connection_is_not_reused(scripted: Any, loop_impl: str) -> None:
    server = scripted([b"HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n", OK])
    responses, _ = exchange(server, [("HEAD", b""), ("GET", b"")])
    assert (responses[0].status, responses[0].body) == (200, b"") and ("Content-Length", "1234") in responses[0].headers
    assert responses[1].body == b"ok" and server.connections == 2


def test_chunked_answers_lose_their_framing(scripted: Any, loop_impl: str) -> None:
    chunked = b"HTTP/1.1 207 Multi-Status\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
    (response,), idle = exchange(scripted([chunked]), [("GET", b"")])
    assert (response.status, response.body, idle) == (207, b"abcde", 1)


@pytest.mark.parametrize(
    ("answer", "error", "message"),
    [
        (None, httpx.RemoteProtocolError, "closed the connection before answering"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\nConnection: close\r\n\r\nshort", httpx.RemoteProtocolError, ""),
        (b"NOT HTTP AT ALL\r\n\r\n", httpx.RemoteProtocolError, "not valid HTTP/1.1"),
        (b"", httpx.ReadTimeout, "no answer from 127.0.0.1:"),
    ],
    ids=["closed-before-answering", "truncated-body", "garbage", "no-answer"],
)
def test_upstream_failures_are_httpx_errors(
    scripted: Any, loop_impl: str, answer: bytes | None, error: type[Exception], message: str
) -> None:
    server = scripted([answer, OK])
    responses, idle = exchange(server, [("GET", b""), ("GET", b"")], timeout=0.5)
    assert isinstance(responses[0], error) and message in str(responses[0])
    assert responses[1].status == 200 and server.connections == 2  # a failed connection is never reused


def test_a_header_that_cannot_be_sent_is_refused_before_anything_is_sent(scripted: Any, loop_impl: str) -> None:
    server = scripted([OK])

    async def scenario() -> None:
        client = UpstreamClient(httpx.URL(f"http://127.0.0.1:{server.port}"), timeout=5)
        await client.send("GET", "/", (("X-Bad", "a\r\nInjected: 1"),), b"")

    with pytest.raises(httpx.LocalProtocolError, match="cannot be sent"):
        asyncio.run(scenario())
    assert server.requests == []
