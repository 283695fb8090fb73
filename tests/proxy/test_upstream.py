"""The proxy's upstream client (h11 on asyncio streams) against real loopback servers: http and https,
keep-alive reuse, chunked bodies passed through whole, raw headers, and errors as httpx exceptions."""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from bluum_readiness._serving import BackgroundServer, bind
from bluum_readiness.proxy._upstream import UpstreamClient
from bluum_readiness.webhooks.tls import shared_local_tls
from tests.proxy._asgi import read_body


async def echo_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answers with the request it saw (method, target, headers, body, client port); ``/chunked`` streams."""
    if scope["type"] != "http":
        return
    body = await read_body(receive)
    seen = {
        "method": scope["method"],
        "path": scope["path"],
        "query": scope["query_string"].decode(),
        "headers": [[k.decode(), v.decode()] for k, v in scope["headers"]],
        "body": body.decode(),
        "client_port": scope["client"][1],
    }
    payload = json.dumps(seen).encode()
    headers = [(b"content-type", b"application/json"), (b"X-Custom", b"Kept-Case")]
    if scope["path"] == "/chunked":  # no content-length: uvicorn sends it chunked
        await send({"type": "http.response.start", "status": 207, "headers": headers})
        await send({"type": "http.response.body", "body": payload[:10], "more_body": True})
        await send({"type": "http.response.body", "body": payload[10:]})
        return
    headers.append((b"content-length", str(len(payload)).encode()))
    await send({"type": "http.response.start", "status": 201, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


@pytest.fixture
def http_server() -> Iterator[BackgroundServer]:
    with BackgroundServer(echo_app, http="h11") as server:  # h11 sends "X-Custom" as given; httptools lowercases
        yield server


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_forwards_method_target_headers_and_body_and_reuses_the_connection(http_server: BackgroundServer) -> None:
    async def scenario() -> tuple[Any, Any, int]:
        client = UpstreamClient(httpx.URL(http_server.url), timeout=5)
        try:
            first = await client.send("POST", "/v1/x?a=1", (("Idempotency-Key", "k-1"),), b'{"n": 1}')
            second = await client.send("GET", "/v1/y", (), b"")
            return first, second, len(client._idle)
        finally:
            await client.aclose()

    first, second, idle = run(scenario())
    seen = json.loads(first.body)
    assert first.status == 201 and ("X-Custom", "Kept-Case") in first.headers
    assert seen["method"] == "POST" and seen["path"] == "/v1/x" and seen["query"] == "a=1"
    assert ["idempotency-key", "k-1"] in seen["headers"] and seen["body"] == '{"n": 1}'
    assert ["host", f"127.0.0.1:{http_server.port}"] in seen["headers"]
    again = json.loads(second.body)
    assert again["client_port"] == seen["client_port"] and idle == 1  # one keep-alive connection, reused
    assert ["content-length", "0"] not in again["headers"]  # a GET without a body has no framing header


def test_a_chunked_response_arrives_whole(http_server: BackgroundServer) -> None:
    async def scenario() -> Any:
        client = UpstreamClient(httpx.URL(http_server.url), timeout=5)
        try:
            return await client.send("GET", "/chunked", (), b"")
        finally:
            await client.aclose()

    response = run(scenario())
    assert response.status == 207 and json.loads(response.body)["path"] == "/chunked"


def test_https_upstream_is_verified_against_the_given_context() -> None:
    tls = shared_local_tls()
    with BackgroundServer(echo_app, ssl_certfile=tls.cert_file, ssl_keyfile=tls.key_file) as server:

        async def scenario(context: ssl.SSLContext | None) -> Any:
            client = UpstreamClient(httpx.URL(server.url), timeout=5, ssl_context=context)
            try:
                return await client.send("GET", "/v1/z", (), b"")
            finally:
                await client.aclose()

        trusted = ssl.create_default_context(cafile=tls.ca_file)
        assert run(scenario(trusted)).status == 201
        with pytest.raises(httpx.ConnectError):  # the default trust store does not know the local CA
            run(scenario(None))


def test_an_unreachable_upstream_is_a_connect_error() -> None:
    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    sock.close()

    async def scenario() -> Any:
        client = UpstreamClient(httpx.URL(f"http://127.0.0.1:{port}"), timeout=2)
        return await client.send("GET", "/", (), b"")

    with pytest.raises(httpx.ConnectError):
        run(scenario())
