"""ProxyServer over real loopback sockets in front of a real twin: fidelity, each fault, keep-alive, 502."""

from __future__ import annotations

import hashlib
import socket
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from bluum_readiness._client_tls import default_tls_context
from bluum_readiness._serving import bind
from bluum_readiness.errors import ConfigError
from bluum_readiness.proxy import (
    DropAfterFault,
    FaultRule,
    HangBeforeFault,
    LatencyFault,
    Plan,
    ProxyServer,
    ResetFault,
    StatusFault,
    WithholdAfterFault,
)
from bluum_readiness.proxy.faults import Forward, Outcome, ProxyRequest
from bluum_readiness.testing import investor_profile
from bluum_readiness.twin import TwinServer

HOLD = 1.0  # longer than the client's 0.3 s timeout


def investor_count(direct: httpx.Client) -> int:
    return len(direct.get("/investors").json()["data"])


def test_base_url_keeps_the_upstream_prefix(proxy: ProxyServer, twin_server: TwinServer) -> None:
    assert proxy.url.startswith("http://127.0.0.1:") and proxy.base_url == proxy.url + "/v1"
    assert twin_server.base_url.endswith("/v1")


def test_pass_through_fidelity(
    via_proxy: httpx.Client, direct: httpx.Client, proxy: ProxyServer, twin_server: TwinServer
) -> None:
    body = investor_profile()
    first = via_proxy.post("/investors", json=body, headers={"Idempotency-Key": "inv-k1"})
    again = via_proxy.post("/investors", json=body, headers={"Idempotency-Key": "inv-k1"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    assert first.headers["x-request-id"].startswith("req_") and first.headers["content-type"] == "application/json"
    assert first.reason_phrase == "Created"
    invalid = via_proxy.post("/investors", json={"first_name": "x"})
    assert invalid.status_code == 400 and invalid.json()["error"]["code"].startswith("BLUM-400-")
    listed = via_proxy.get("/investors", params={"limit": 1})
    # KYC may move the investor on between two reads: compare what cannot change
    stable = ("id", "email", "created")
    proxied = [{k: i[k] for k in stable} for i in listed.json()["data"]]
    assert proxied == [{k: i[k] for k in stable} for i in direct.get("/investors", params={"limit": 1}).json()["data"]]
    unauthenticated = httpx.get(proxy.base_url + "/investors", timeout=5)
    assert unauthenticated.status_code == 401 and unauthenticated.json()["error"]["code"] == "BLUM-401-001"

    e1, e2, e3, e4, _ = proxy.exchanges()
    assert (e1.method, e1.path, e1.status, e1.outcome, e1.idempotency_key) == (
        "POST", "/v1/investors", 201, "forwarded", "inv-k1"
    )  # fmt: skip
    assert e1.request_id == first.headers["x-request-id"] and e1.upstream_committed and e1.upstream_status == 201
    assert e1.body_sha256 == hashlib.sha256(first.request.content).hexdigest() == e2.body_sha256
    assert e2.response_header("idempotent-replayed") == "true"
    assert e3.status == 400 and e4.query == "limit=1"
    assert e1.auth_key_id == twin_server.auth[0] and twin_server.auth[1] not in repr(proxy.exchanges())
    assert all(e.started <= e.finished and e.duration_ms >= 0 for e in proxy.exchanges())


def test_status_429_with_retry_after(via_proxy: httpx.Client, proxy: ProxyServer, direct: httpx.Client) -> None:
    proxy.add_rule(FaultRule("rl", StatusFault(429, retry_after=2), method="POST", path="/v1/investors", first=1))
    limited = via_proxy.post("/investors", json=investor_profile())
    assert limited.status_code == 429 and limited.headers["retry-after"] == "2"
    assert limited.json()["error"] == {
        "type": "rate_limit_error",
        "code": "BLUM-429-001",
        "message": "Rate limit exceeded",
    }
    assert investor_count(direct) == 0
    assert via_proxy.post("/investors", json=investor_profile()).status_code == 201
    first = proxy.exchanges()[0]
    assert (first.outcome, first.fault, first.upstream_committed) == ("status", "rl", False)
    assert first.request_id == limited.headers["x-request-id"]


def test_latency(via_proxy: httpx.Client, proxy: ProxyServer) -> None:
    proxy.add_rule(FaultRule("slow", LatencyFault(0.2), method="GET"))
    t0 = time.monotonic()
    assert via_proxy.get("/investors").status_code == 200
    assert time.monotonic() - t0 >= 0.2
    (e,) = proxy.exchanges()
    assert e.duration_ms >= 200 and e.outcome == "forwarded" and e.fault == "slow"


def test_hang_before_times_out_and_the_upstream_never_sees_it(
    via_proxy: httpx.Client, proxy: ProxyServer, direct: httpx.Client
) -> None:
    proxy.add_rule(FaultRule("hang", HangBeforeFault(HOLD), method="POST", nth=1))
    t0 = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        via_proxy.post("/investors", json=investor_profile())
    assert time.monotonic() - t0 < HOLD
    assert investor_count(direct) == 0
    (e,) = proxy.exchanges()
    assert (e.outcome, e.status, e.upstream_committed, e.upstream_status) == ("timeout", None, False, None)
    assert 250 <= e.duration_ms < 1000 * HOLD  # the hold ended when the client gave up


def test_withhold_after_times_out_but_the_upstream_committed(
    via_proxy: httpx.Client, proxy: ProxyServer, direct: httpx.Client
) -> None:
    proxy.add_rule(FaultRule("lost", WithholdAfterFault(HOLD), method="POST", nth=1))
    body = investor_profile()
    with pytest.raises(httpx.ReadTimeout):
        via_proxy.post("/investors", json=body, headers={"Idempotency-Key": "w-1"})
    assert investor_count(direct) == 1
    e = proxy.exchanges()[0]
    assert (e.outcome, e.status, e.upstream_committed, e.upstream_status) == ("timeout", None, True, 201)
    # a retry with the same key is replayed by the upstream: still exactly one investor
    retry = via_proxy.post("/investors", json=body, headers={"Idempotency-Key": "w-1"})
    assert retry.status_code == 201 and retry.headers["idempotent-replayed"] == "true"
    assert investor_count(direct) == 1


def test_a_client_that_gave_up_while_its_request_waited_received_nothing(
    proxy_factory: Callable[..., ProxyServer], twin_server: TwinServer, direct: httpx.Client
) -> None:
    """No fault: the request waited for its slot (the run's pace) longer than the client's timeout, then went
    upstream. The record says what the client got — nothing (``timeout``) — and what the upstream did: it
    committed and answered 201. (It once said 201 was received: a transcript showing an answer the integration
    never saw.)"""
    proxy = proxy_factory(pace=lambda: HOLD)
    with httpx.Client(base_url=proxy.base_url, auth=twin_server.auth, timeout=0.3) as gives_up:
        with pytest.raises(httpx.ReadTimeout):
            gives_up.post("/investors", json=investor_profile())
    deadline = time.monotonic() + 5
    while not proxy.exchanges(settle=0) and time.monotonic() < deadline:
        time.sleep(0.02)
    e = proxy.exchanges()[0]
    assert (e.fault, e.outcome, e.status, e.upstream_committed, e.upstream_status) == (None, "timeout", None, True, 201)
    assert investor_count(direct) == 1


def test_drop_after_closes_with_no_response_after_the_upstream_committed(
    via_proxy: httpx.Client, proxy: ProxyServer, direct: httpx.Client
) -> None:
    proxy.add_rule(FaultRule("drop", DropAfterFault(), method="POST", nth=1))
    with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
        via_proxy.post("/investors", json=investor_profile())
    assert investor_count(direct) == 1
    (e,) = proxy.exchanges()
    assert (e.outcome, e.status, e.upstream_committed) == ("dropped", None, True)
    assert via_proxy.get("/investors").status_code == 200  # the client reconnects


@pytest.mark.parametrize("after_forward", [False, True])
def test_reset(via_proxy: httpx.Client, proxy: ProxyServer, direct: httpx.Client, after_forward: bool) -> None:
    proxy.add_rule(FaultRule("rst", ResetFault(after_forward=after_forward), method="POST", nth=1))
    with pytest.raises((httpx.ReadError, httpx.ConnectError, httpx.RemoteProtocolError)) as caught:
        via_proxy.post("/investors", json=investor_profile())
    assert not isinstance(caught.value, httpx.TimeoutException)
    assert investor_count(direct) == int(after_forward)
    (e,) = proxy.exchanges()
    assert (e.outcome, e.status, e.upstream_committed) == ("reset", None, after_forward)


def test_a_reset_is_a_real_rst(proxy: ProxyServer) -> None:
    proxy.add_rule(FaultRule("rst", ResetFault()))
    with socket.create_connection((proxy.host, proxy.port), timeout=5) as sock:
        sock.sendall(b"GET /v1/investors HTTP/1.1\r\nHost: x\r\n\r\n")
        with pytest.raises(ConnectionResetError):
            sock.recv(1024)


def test_keep_alive_across_requests_and_faults(via_proxy: httpx.Client, proxy: ProxyServer) -> None:
    proxy.add_rule(FaultRule("boom", StatusFault(503), nth=2))
    responses = [via_proxy.get("/investors") for _ in range(5)]
    assert [r.status_code for r in responses] == [200, 503, 200, 200, 200]
    ports = {r.extensions["network_stream"].get_extra_info("client_addr")[1] for r in responses}
    assert len(ports) == 1  # one connection served all five
    assert [x.reused_connection for x in proxy.exchanges()] == [False, True, True, True, True]


def test_fresh_connections_end_each_connection_after_its_response(via_proxy: httpx.Client, proxy: ProxyServer) -> None:
    proxy.add_rule(FaultRule("boom", StatusFault(503), nth=2))
    proxy.fresh_connections = True
    responses = [via_proxy.get("/investors") for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 503, 200]
    assert all(r.headers["connection"] == "close" for r in responses)
    assert [x.reused_connection for x in proxy.exchanges()] == [False, False, False]  # a connection of its own each
    proxy.fresh_connections = False
    again = [via_proxy.get("/investors") for _ in range(2)]
    assert "connection" not in again[0].headers
    assert [x.reused_connection for x in proxy.exchanges()][3:] == [False, True]


def test_fresh_connections_close_the_connections_kept_alive_from_before(
    via_proxy: httpx.Client, proxy: ProxyServer
) -> None:
    """A connection opened before the switch (an integration that made a request at start-up) carries no request
    after it: the first request after it comes on a new connection too, so no transport's own resend of a dropped
    request on a reused connection (Go's) can pass for the integration's retry."""
    before = via_proxy.get("/investors")
    with socket.create_connection((proxy.host, proxy.port), timeout=5) as idle_raw:
        idle_raw.sendall(b"GET /v1/investors HTTP/1.1\r\nHost: x\r\n\r\n")
        assert idle_raw.recv(65536).startswith(b"HTTP/1.1 ")  # kept alive, now idle
        proxy.fresh_connections = True
        idle_raw.settimeout(5)
        assert idle_raw.recv(65536) == b""  # the proxy closed it (FIN)
    after = via_proxy.get("/investors")
    assert before.status_code == after.status_code == 200
    assert [x.reused_connection for x in proxy.exchanges()] == [False, False, False]
    proxy.fresh_connections = False


def test_raw_keep_alive_and_connection_close(proxy: ProxyServer) -> None:
    with socket.create_connection((proxy.host, proxy.port), timeout=5) as sock:
        sock.sendall(b"GET /__proxy/version HTTP/1.1\r\nHost: x\r\n\r\nGET /__proxy/version HTTP/1.1\r\nHost: x\r\n"
                     b"Connection: close\r\n\r\n")  # fmt: skip
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    assert data.count(b"HTTP/1.1 200 OK") == 2


def test_concurrent_requests(via_proxy: httpx.Client, proxy: ProxyServer, twin_server: TwinServer) -> None:
    def get(_: int) -> int:
        with httpx.Client(base_url=proxy.base_url, auth=twin_server.auth, timeout=5, verify=default_tls_context()) as c:
            return c.get("/investors").status_code

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(get, range(16))) == [200] * 16
    assert sorted(e.seq for e in proxy.exchanges()) == list(range(1, 17))


def free_port() -> int:
    sock = bind("127.0.0.1", 0)
    port: int = sock.getsockname()[1]
    sock.close()
    return port


def test_unreachable_upstream_is_a_502_in_a_proxy_envelope(proxy_factory: Callable[..., ProxyServer]) -> None:
    proxy = proxy_factory(upstream=f"http://127.0.0.1:{free_port()}/v1")
    r = httpx.get(proxy.base_url + "/investors", timeout=5)
    assert r.status_code == 502
    error = r.json()["error"]
    assert error["type"] == "api_error" and error["code"] == "BLUM-500-017"
    assert (
        error["message"].startswith("bluum-readiness proxy: upstream http://127.0.0.1:")
        and "unreachable: ConnectError" in error["message"]
    )
    (e,) = proxy.exchanges()
    assert e.outcome == "upstream_error" and e.status == 502 and not e.upstream_committed and e.error


def test_stop_ends_holds_at_once(proxy_factory: Callable[..., ProxyServer], twin_server: TwinServer) -> None:
    proxy = proxy_factory(plan=Plan((FaultRule("hang", HangBeforeFault(30.0)),)))
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(httpx.get, proxy.base_url + "/investors", timeout=20)
        deadline = time.monotonic() + 5
        while not proxy.engine.stats()[0]["applied"] and time.monotonic() < deadline:
            time.sleep(0.01)
        t0 = time.monotonic()
        proxy.stop()
        assert time.monotonic() - t0 < 3
        with pytest.raises(httpx.RemoteProtocolError):
            pending.result(timeout=5)
    assert proxy.exchanges()[0].outcome == "timeout"


@pytest.mark.parametrize("upstream", ["ftp://x/v1", "not a url", "http:///v1", "http://x/v1?a=1"])
def test_bad_upstream_urls(upstream: str) -> None:
    with pytest.raises(ConfigError, match="pass e.g. http://127.0.0.1:8787/v1"):
        ProxyServer(upstream)


def test_port_in_use_is_a_config_error(proxy: ProxyServer) -> None:
    with pytest.raises(ConfigError, match=f"port {proxy.port} on 127.0.0.1 is in use"):
        ProxyServer("http://127.0.0.1:1/v1", port=proxy.port)


class Broken:
    async def apply(self, request: ProxyRequest, forward: Forward) -> Outcome:
        raise RuntimeError("bug in a fault")


def test_a_broken_fault_is_a_500_proxy_error_not_a_hang(via_proxy: httpx.Client, proxy: ProxyServer) -> None:
    proxy.add_rule(FaultRule("broken", Broken(), nth=1))
    r = via_proxy.get("/investors")
    assert r.status_code == 500 and "fault rule 'broken' failed: RuntimeError('bug in a fault')" in r.text
    assert via_proxy.get("/investors").status_code == 200
    first = proxy.exchanges()[0]
    assert first.outcome == "proxy_error" and first.status == 500 and "bug in a fault" in (first.error or "")


def test_exchanges_are_complete_as_soon_as_the_client_has_its_outcome(
    via_proxy: httpx.Client, proxy: ProxyServer
) -> None:
    proxy.set_plan(Plan((FaultRule("hang", HangBeforeFault(HOLD), nth=2), FaultRule("drop", DropAfterFault(), nth=4))))
    for i in range(6):
        try:
            via_proxy.get("/investors")
        except httpx.TransportError:
            pass
        assert len(proxy.exchanges()) == i + 1
