"""The fault proxy reaches an https upstream through the network's HTTP proxy (``HTTPS_PROXY``), as a CI runner
whose only way out is a corporate proxy needs: a ``CONNECT`` tunnel, TLS verified end to end inside it, over real
loopback sockets (an https echo server with the local CA, a small CONNECT proxy)."""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import socketserver
import ssl
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from bluum_readiness._serving import BackgroundServer
from bluum_readiness.errors import ConfigError
from bluum_readiness.proxy import ProxyServer
from bluum_readiness.proxy._egress import egress_proxy_for
from bluum_readiness.proxy._upstream import UpstreamClient
from bluum_readiness.webhooks.tls import shared_local_tls
from tests.proxy.test_upstream import echo_app


class ConnectProxy(socketserver.ThreadingTCPServer):
    """What an egress proxy does for https: ``CONNECT host:port``, ``200``, then the bytes both ways. Every request
    head it got is kept (``heads``); ``refuse`` answers that status line instead of opening the tunnel."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, refuse: bytes | None = None) -> None:
        super().__init__(("127.0.0.1", 0), _Tunnel)
        self.refuse = refuse
        self.heads: list[str] = []
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class _Tunnel(socketserver.BaseRequestHandler):
    server: ConnectProxy

    def handle(self) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.request.recv(4096)
            if not chunk:
                return
            head += chunk
        self.server.heads.append(head.decode("latin-1"))
        if self.server.refuse is not None:
            self.request.sendall(self.server.refuse + b"\r\nContent-Length: 0\r\n\r\n")
            return
        host, _, port = head.split(b" ", 2)[1].decode().rpartition(":")
        with socket.create_connection((host, int(port))) as upstream:
            self.request.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            threading.Thread(target=_pipe, args=(upstream, self.request), daemon=True).start()
            _pipe(self.request, upstream)


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for side in (sink, source):
            try:
                side.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


@pytest.fixture(scope="module")
def https_echo() -> Iterator[BackgroundServer]:
    tls = shared_local_tls()
    with BackgroundServer(echo_app, ssl_certfile=tls.cert_file, ssl_keyfile=tls.key_file) as server:
        yield server


@pytest.fixture
def trusted() -> ssl.SSLContext:
    return ssl.create_default_context(cafile=shared_local_tls().ca_file)


def _send(client: UpstreamClient, *paths: str) -> list[Any]:
    async def scenario() -> list[Any]:
        try:
            return [await client.send("GET", path, (), b"") for path in paths]
        finally:
            await client.aclose()

    return asyncio.run(scenario())


def test_an_https_upstream_is_reached_through_the_networks_proxy_in_one_tunnel(https_echo, trusted) -> None:
    proxy = ConnectProxy()
    try:
        client = UpstreamClient(httpx.URL(https_echo.url), timeout=5, ssl_context=trusted, via=httpx.URL(proxy.url))
        first, second = _send(client, "/v1/assets", "/v1/investors")
    finally:
        proxy.stop()
    assert (first.status, json.loads(first.body)["path"]) == (201, "/v1/assets")
    assert json.loads(second.body)["path"] == "/v1/investors"
    assert [head.split("\r\n", 1)[0] for head in proxy.heads] == [f"CONNECT 127.0.0.1:{https_echo.port} HTTP/1.1"]


def test_a_proxy_that_refuses_the_tunnel_is_a_proxy_error_naming_it_and_never_its_password(https_echo, trusted) -> None:
    proxy = ConnectProxy(refuse=b"HTTP/1.1 407 Proxy Authentication Required")
    via = httpx.URL(proxy.url.replace("http://", "http://ci-bot:p%40ss-word-77@"))
    try:
        client = UpstreamClient(httpx.URL(https_echo.url), timeout=5, ssl_context=trusted, via=via)
        with pytest.raises(httpx.ProxyError) as caught:
            _send(client, "/v1/assets")
    finally:
        proxy.stop()
    assert "refused CONNECT 127.0.0.1" in str(caught.value) and "407 Proxy Authentication Required" in str(caught.value)
    assert "p@ss-word-77" not in str(caught.value) and "ci-bot" not in str(caught.value)
    token = base64.b64encode(b"ci-bot:p@ss-word-77").decode()
    assert f"Proxy-Authorization: Basic {token}\r\n" in proxy.heads[0]


def test_the_fault_proxy_takes_its_way_out_from_the_environment(
    https_echo, trusted, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``bluum-readiness run --target https://…`` behind a corporate proxy: the integration's requests go through
    the fault proxy, and the fault proxy through ``HTTPS_PROXY``. Before, it connected directly and every request
    failed while the preflight (httpx, which honours the variable) had passed."""
    proxy = ConnectProxy()
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", "")  # here the upstream is on loopback too; a run keeps loopback off the proxy
    monkeypatch.setattr("bluum_readiness.proxy._upstream.default_tls_context", lambda: trusted)
    try:
        with ProxyServer(https_echo.url + "/v1") as server, httpx.Client() as client:
            answer = client.get(server.base_url + "/assets", params={"limit": "1"})
    finally:
        proxy.stop()
    assert answer.status_code == 201 and json.loads(answer.content)["path"] == "/v1/assets"
    assert proxy.heads and proxy.heads[0].startswith(f"CONNECT 127.0.0.1:{https_echo.port} ")


def test_the_environment_names_a_proxy_for_https_upstreams_outside_no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost,::1,.corp.example")
    sandbox = httpx.URL("https://sandbox.api.bluumfinance.com/v1")
    assert egress_proxy_for(sandbox) is None  # no proxy named
    monkeypatch.setenv("HTTPS_PROXY", "proxy.corp.example:3128")  # as curl takes it, without a scheme
    assert egress_proxy_for(sandbox) == httpx.URL("http://proxy.corp.example:3128")
    assert egress_proxy_for(httpx.URL("https://127.0.0.1:8443/v1")) is None  # NO_PROXY
    assert egress_proxy_for(httpx.URL("https://bluum.corp.example/v1")) is None
    assert egress_proxy_for(httpx.URL("http://sandbox.example/v1")) is None  # plain http: directly
    monkeypatch.delenv("HTTPS_PROXY")
    monkeypatch.setenv("ALL_PROXY", "socks5://ci-bot:hunter2hunter2@proxy.corp.example:1080")
    with pytest.raises(ConfigError, match="names a socks5:// proxy") as caught:
        egress_proxy_for(sandbox)
    assert "hunter2" not in str(caught.value)
