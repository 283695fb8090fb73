"""The proxy's listening side over raw sockets: httptools parsing of what clients really send.

Chunked and large bodies, keep-alive and pipelining (in order, past the read-ahead limit, stopping at
``Connection: close``), HTTP/1.0, ``Expect: 100-continue``, Upgrade requests, half-closed clients, HEAD, and
malformed requests answered 400/413/431 — never a crash, never a hang. Each runs on both event loops
(uvloop where installed, and asyncio's own: ``BLUUM_READINESS_SERVER_IMPL=pure``).
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bluum_readiness._client_tls import default_tls_context
from bluum_readiness._serving import IMPL_ENV, BackgroundServer
from bluum_readiness.proxy import FaultRule, ProxyServer, StatusFault
from bluum_readiness.proxy._client_conn import MAX_HEAD_BYTES, MAX_QUEUED
from bluum_readiness.proxy.faults import Respond
from tests.proxy._asgi import read_body


async def echo_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answers with what it received: method, target, headers, body size and SHA-256 (``/big``: the body)."""
    if scope["type"] != "http":
        return
    body = await read_body(receive)
    seen = {
        "method": scope["method"],
        "path": scope["path"],
        "query": scope["query_string"].decode(),
        "headers": {k.decode(): v.decode() for k, v in scope["headers"]},
        "size": len(body),
        "sha256": hashlib.sha256(body).hexdigest(),
    }
    payload = body if scope["path"] == "/big" else json.dumps(seen).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else payload})


@pytest.fixture(scope="module")
def echo() -> Iterator[BackgroundServer]:
    with BackgroundServer(echo_app) as server:
        yield server


@pytest.fixture(params=["fast", "pure"])
def make_proxy(
    request: pytest.FixtureRequest, echo: BackgroundServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., ProxyServer]]:
    """ProxyServers in front of the echo server, on uvloop ("fast", where installed) or asyncio's loop."""
    monkeypatch.setenv(IMPL_ENV, request.param)
    started: list[ProxyServer] = []

    def make(**kwargs: Any) -> ProxyServer:
        proxy = ProxyServer(echo.url, **kwargs).start()
        started.append(proxy)
        return proxy

    yield make
    for proxy in started:
        proxy.stop()


@pytest.fixture
def proxy(make_proxy: Callable[..., ProxyServer]) -> ProxyServer:
    return make_proxy()


def connect(proxy: ProxyServer) -> socket.socket:
    sock = socket.create_connection((proxy.host, proxy.port), timeout=5)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


class Reader:
    """Reads responses off a raw socket (the proxy always frames them with Content-Length)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""

    def _fill(self) -> bool:
        chunk = self.sock.recv(65536)
        self.buffer += chunk
        return bool(chunk)

    def response(self, head_only: bool = False) -> tuple[int, dict[str, str], bytes]:
        while b"\r\n\r\n" not in self.buffer:
            if not self._fill():
                raise AssertionError(f"connection closed mid-response: {self.buffer!r}")
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines)}
        size = 0 if head_only else int(headers.get("content-length", "0"))
        while len(self.buffer) < size:
            if not self._fill():
                raise AssertionError("connection closed mid-body")
        body, self.buffer = self.buffer[:size], self.buffer[size:]
        return int(status_line.split()[1]), headers, body

    def closed(self) -> bool:
        """True when the server closes the connection with nothing more to read."""
        return not self.buffer and not self._fill()


def get(path: str, extra: str = "") -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: x\r\n{extra}\r\n".encode()


def test_a_chunked_request_body_arrives_whole_byte_by_byte(proxy: ProxyServer) -> None:
    body_parts = [b"hello ", b"chunked ", b"world" * 100]
    wire = b"POST /v1/things?x=1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    wire += b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in body_parts) + b"0\r\n\r\n"
    with connect(proxy) as sock:
        for i in range(0, len(wire), 7):  # the parser sees the request in many small reads
            sock.sendall(wire[i : i + 7])
        status, _, payload = Reader(sock).response()
    seen = json.loads(payload)
    body = b"".join(body_parts)
    assert status == 200 and seen["method"] == "POST" and seen["query"] == "x=1"
    assert seen["size"] == len(body) and seen["sha256"] == hashlib.sha256(body).hexdigest()
    assert seen["headers"]["content-length"] == str(len(body)) and "transfer-encoding" not in seen["headers"]
    (exchange,) = proxy.exchanges()
    assert exchange.body_size == len(body) and exchange.body_sha256 == seen["sha256"]


def test_keep_alive_and_pipelined_requests_are_answered_in_order(proxy: ProxyServer) -> None:
    count = MAX_QUEUED * 3  # more than the proxy parses ahead: reading pauses and resumes
    with connect(proxy) as sock:
        reader = Reader(sock)
        sock.sendall(get("/first"))
        assert json.loads(reader.response()[2])["path"] == "/first"
        sock.sendall(b"".join(get(f"/p{i}") for i in range(count)))
        paths = [json.loads(reader.response()[2])["path"] for _ in range(count)]
        sock.sendall(get("/last"))
        assert json.loads(reader.response()[2])["path"] == "/last"
    assert paths == [f"/p{i}" for i in range(count)]
    assert [e.path for e in proxy.exchanges()] == ["/first", *paths, "/last"]


def test_nothing_after_a_connection_close_request_is_served(proxy: ProxyServer) -> None:
    with connect(proxy) as sock:
        sock.sendall(get("/a", "Connection: close\r\n") + get("/b"))
        reader = Reader(sock)
        status, headers, payload = reader.response()
        assert status == 200 and headers["connection"] == "close" and json.loads(payload)["path"] == "/a"
        assert reader.closed()
    assert [e.path for e in proxy.exchanges()] == ["/a"]


def test_http_1_0_closes_unless_it_asks_for_keep_alive(proxy: ProxyServer) -> None:
    with connect(proxy) as sock:
        sock.sendall(b"GET /old HTTP/1.0\r\n\r\n")
        reader = Reader(sock)
        status, headers, _ = reader.response()
        assert status == 200 and headers["connection"] == "close" and reader.closed()
    with connect(proxy) as sock:
        sock.sendall(b"GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        reader = Reader(sock)
        assert reader.response()[0] == 200
        sock.sendall(b"GET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        assert json.loads(reader.response()[2])["path"] == "/b"


def test_large_bodies_both_ways(proxy: ProxyServer) -> None:
    body = os.urandom(3 * 1024 * 1024)
    with httpx.Client(base_url=proxy.url, timeout=30, verify=default_tls_context()) as client:
        response = client.post("/big", content=body)
    assert response.status_code == 200 and response.content == body
    (exchange,) = proxy.exchanges()
    assert exchange.body_size == len(body) and exchange.body_sha256 == hashlib.sha256(body).hexdigest()


def test_a_body_over_the_limit_is_413_and_the_upstream_never_sees_it(make_proxy: Callable[..., ProxyServer]) -> None:
    proxy = make_proxy(max_body_bytes=1000)
    with connect(proxy) as sock:
        sock.sendall(get("/ok") + b"POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n" + b"x" * 5000)
        reader = Reader(sock)
        assert reader.response()[0] == 200  # the request before it is answered first
        status, headers, payload = reader.response()
        assert status == 413 and headers["connection"] == "close"
        assert json.loads(payload) == {"error": "bluum-readiness proxy: request body over 1000 bytes", "status": 413}
        assert reader.closed()
    assert [e.path for e in proxy.exchanges()] == ["/ok"]


@pytest.mark.parametrize(
    "wire",
    [
        b"GARBAGE\r\n\r\n",
        b"GET / HTTP/9.9\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n",
        b"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n",
        b"GET / HTTP/1.1\r\nHost: a\x00b\r\n\r\n",
    ],
    ids=["not-http", "bad-version", "header-without-colon", "two-content-lengths", "bad-chunk", "nul-in-header"],
)
def test_a_malformed_request_is_a_400_and_the_proxy_serves_on(proxy: ProxyServer, wire: bytes) -> None:
    with connect(proxy) as sock:
        sock.sendall(wire)
        reader = Reader(sock)
        status, headers, payload = reader.response()
        assert status == 400 and headers["connection"] == "close"
        error = json.loads(payload)
        assert error["status"] == 400 and error["error"].startswith("bluum-readiness proxy: bad request: ")
        assert reader.closed()
    assert httpx.get(proxy.url + "/after", timeout=5).status_code == 200
    assert [e.path for e in proxy.exchanges()] == ["/after"]


def test_a_request_head_over_the_limit_is_431(proxy: ProxyServer) -> None:
    with connect(proxy) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
        filler = b"X-Filler: " + b"a" * 1000 + b"\r\n"
        status = None
        try:
            for _ in range(MAX_HEAD_BYTES // len(filler) + 8):
                sock.sendall(filler)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the proxy answered and closed while we were still sending
        status, _, payload = Reader(sock).response()
    assert status == 431 and b"request head over" in payload
    assert proxy.exchanges() == []


@pytest.mark.parametrize(
    "head",
    [
        b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (MAX_HEAD_BYTES + 1024) + b"\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\n"
        + b"".join(b"X-F%d: " % i + b"a" * 1000 + b"\r\n" for i in range(70))
        + b"\r\n",
        b"GET /" + b"u" * (MAX_HEAD_BYTES + 1024) + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    ],
    ids=["one-big-header", "many-headers", "long-target"],
)
def test_a_request_head_over_the_limit_is_431_even_in_one_piece(proxy: ProxyServer, head: bytes) -> None:
    """Regression (issue 23): the limit was counted only while a head was incomplete after a read, so a head
    that arrived whole in one read (or completed in the read that crossed the limit) was served."""
    with connect(proxy) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
        try:
            sock.sendall(head)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the proxy answered and closed while we were still sending
        status, _, payload = Reader(sock).response()
    assert status == 431 and b"request head over" in payload
    assert proxy.exchanges() == []


def test_the_head_limit_holds_for_any_head_shape_and_any_chunking(proxy: ProxyServer) -> None:
    """Issue 23's framing sweep, kept: heads of generated size (up to twice the limit) and shape (how much is
    the target, how many headers) sent in generated pieces get 431 when clearly over the limit and are served
    when clearly under it."""

    @settings(max_examples=25, derandomize=True, database=None, deadline=None)
    @given(
        size=st.integers(100, 2 * MAX_HEAD_BYTES),
        target_share=st.sampled_from([0.0, 0.1, 0.5, 0.9]),
        count=st.integers(1, 6),
        cuts=st.just([]) | st.lists(st.integers(1, 2 * MAX_HEAD_BYTES), max_size=4),  # []: in one piece
    )
    @example(size=MAX_HEAD_BYTES + 4096, target_share=0.0, count=1, cuts=[])
    def probe(size: int, target_share: float, count: int, cuts: list[int]) -> None:
        target = max(1, int(size * target_share))
        each = max(1, (size - target) // count)
        head = (
            b"GET /" + b"t" * target + b" HTTP/1.1\r\nHost: x\r\n"
            + b"".join(b"X-H%d: " % i + b"v" * each + b"\r\n" for i in range(count))
            + b"\r\n"
        )  # fmt: skip
        if abs(len(head) - MAX_HEAD_BYTES) < 1024:
            return  # near the limit the parsed and the raw size differ by the framing: no clear expectation
        with connect(proxy) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
            bounds = sorted(c for c in cuts if c < len(head))
            pieces = [head[a:b] for a, b in zip([0, *bounds], [*bounds, len(head)], strict=True)]
            try:
                for piece in pieces:
                    if piece:
                        sock.sendall(piece)
            except (BrokenPipeError, ConnectionResetError):
                pass  # answered and closed while we were still sending
            status, _, _ = Reader(sock).response()
        assert status == (431 if len(head) > MAX_HEAD_BYTES else 200), (len(head), target_share, count, cuts)

    probe()


def test_a_head_just_under_the_limit_is_served(proxy: ProxyServer) -> None:
    with connect(proxy) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (MAX_HEAD_BYTES - 1024) + b"\r\n\r\n")
        status, _, payload = Reader(sock).response()
    assert status == 200 and len(json.loads(payload)["headers"]["x-big"]) == MAX_HEAD_BYTES - 1024


def test_expect_100_continue_gets_an_interim_answer_first(proxy: ProxyServer) -> None:
    with connect(proxy) as sock:
        sock.sendall(b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        reader = Reader(sock)
        assert reader.response(head_only=True)[0] == 100
        sock.sendall(b"12345")
        status, _, payload = reader.response()
    assert status == 200 and json.loads(payload)["size"] == 5


def test_an_upgrade_request_is_answered_as_plain_http_then_closed(proxy: ProxyServer) -> None:
    with connect(proxy) as sock:
        sock.sendall(get("/ws", "Connection: Upgrade\r\nUpgrade: websocket\r\n") + b"\x81\x05hello")
        reader = Reader(sock)
        status, headers, payload = reader.response()
        assert status == 200 and headers["connection"] == "close" and reader.closed()
    forwarded = json.loads(payload)["headers"]
    assert "upgrade" not in forwarded and "connection" not in forwarded  # hop-by-hop: not forwarded


def test_a_half_closed_client_still_gets_its_answer(proxy: ProxyServer) -> None:
    with connect(proxy) as sock:
        sock.sendall(get("/half"))
        sock.shutdown(socket.SHUT_WR)
        reader = Reader(sock)
        status, _, payload = reader.response()
        assert status == 200 and json.loads(payload)["path"] == "/half" and reader.closed()


def test_head_answers_keep_their_content_length_and_send_no_body(proxy: ProxyServer) -> None:
    with httpx.Client(base_url=proxy.url, timeout=5, verify=default_tls_context()) as client:
        head = client.head("/thing")
        after = client.get("/thing")  # the connection goes on after a body-less answer
    assert head.status_code == 200 and head.content == b"" and int(head.headers["content-length"]) > 0
    assert after.status_code == 200 and json.loads(after.content)["method"] == "GET"
    assert [(e.method, e.status) for e in proxy.exchanges()] == [("HEAD", 200), ("GET", 200)]


class _HeaderSplittingFault:
    """A fault of one's own that makes up a header no response may carry (``StatusFault`` refuses one)."""

    async def apply(self, request: Any, forward: Any) -> Respond:
        return Respond(503, (("X-Evil", "a\r\nSet-Cookie: stolen=1"),), b"{}")


def test_a_fault_header_that_would_split_the_response_is_a_500(proxy: ProxyServer) -> None:
    with pytest.raises(ValueError, match="cannot be sent"):  # the built-in kind refuses it up front
        StatusFault(503, headers={"X-Evil": "a\r\nSet-Cookie: stolen=1"})
    proxy.add_rule(FaultRule("evil", _HeaderSplittingFault(), nth=1))
    with httpx.Client(base_url=proxy.url, timeout=5, verify=default_tls_context()) as client:
        broken = client.get("/x")
        assert client.get("/x").status_code == 200  # the next request, on a new connection
    assert broken.status_code == 500 and "set-cookie" not in broken.headers
    assert "cannot be sent" in broken.json()["error"]
