"""FaultTransport: the same engine in-process around httpx.MockTransport. No sockets, no real sleeping."""

from __future__ import annotations

import asyncio
import gzip
import time

import httpx
import pytest

from bluum_readiness.clock import ManualClock
from bluum_readiness.errors import HarnessError
from bluum_readiness.proxy import (
    DropAfterFault,
    FaultRule,
    FaultTransport,
    HangBeforeFault,
    LatencyFault,
    Plan,
    ResetFault,
    StatusFault,
    WithholdAfterFault,
)
from bluum_readiness.proxy.faults import Forward, Outcome, ProxyRequest


class Upstream:
    """A MockTransport handler that records what reached it."""

    def __init__(self) -> None:
        self.seen: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        return httpx.Response(201, json={"id": "inv_1"}, headers={"X-Request-Id": f"req_{len(self.seen)}"})


def client(*rules: FaultRule, timeout: float = 5.0, **kwargs: object) -> tuple[httpx.Client, FaultTransport, Upstream]:
    upstream = Upstream()
    transport = FaultTransport(httpx.MockTransport(upstream), Plan(rules), **kwargs)  # type: ignore[arg-type]
    return httpx.Client(transport=transport, base_url="http://bluum/v1", timeout=timeout), transport, upstream


def test_pass_through_is_recorded() -> None:
    c, transport, upstream = client()
    r = c.post("/investors", json={"a": 1}, headers={"Idempotency-Key": "k1"}, auth=("key_1", "s3cret"))
    assert r.status_code == 201 and r.json() == {"id": "inv_1"} and r.headers["x-request-id"] == "req_1"
    assert len(upstream.seen) == 1
    (e,) = transport.exchanges()
    assert (e.outcome, e.status, e.request_id, e.idempotency_key, e.auth_key_id) == (
        "forwarded", 201, "req_1", "k1", "key_1"
    )  # fmt: skip
    assert "s3cret" not in repr(e)


def test_status_fault_never_reaches_the_upstream() -> None:
    c, transport, upstream = client(FaultRule("rl", StatusFault(429, retry_after=1), method="POST", first=1))
    r = c.post("/investors", json={})
    assert r.status_code == 429 and r.headers["retry-after"] == "1"
    assert r.json()["error"]["code"] == "BLUM-429-001" and r.reason_phrase == "Too Many Requests"
    assert c.post("/investors", json={}).status_code == 201
    assert len(upstream.seen) == 1
    assert [(e.outcome, e.fault, e.fault_kind) for e in transport.exchanges()] == [
        ("status", "rl", "status"),
        ("forwarded", None, None),
    ]


def test_latency_is_virtual_and_shows_in_the_recorded_duration() -> None:
    c, transport, _ = client(FaultRule("slow", LatencyFault(3.0)))
    t0 = time.monotonic()
    assert c.get("/investors").status_code == 201
    assert time.monotonic() - t0 < 1.0  # nothing really slept
    assert transport.waits == [3.0]
    assert transport.exchanges()[0].duration_ms == 3000.0


def test_latency_past_the_read_timeout_times_out_but_the_upstream_commits() -> None:
    c, transport, upstream = client(FaultRule("slow", LatencyFault(10.0)), timeout=0.3)
    with pytest.raises(httpx.ReadTimeout):
        c.post("/investors", json={})
    (e,) = transport.exchanges()
    assert len(upstream.seen) == 1 and e.upstream_committed and e.status is None and e.outcome == "timeout"


def test_hang_before_times_out_without_forwarding() -> None:
    clock = ManualClock()
    c, transport, upstream = client(FaultRule("hang", HangBeforeFault(30.0)), timeout=0.3, clock=clock)
    with pytest.raises(httpx.ReadTimeout):
        c.post("/investors", json={})
    (e,) = transport.exchanges()
    assert upstream.seen == [] and not e.upstream_committed and e.outcome == "timeout" and e.status is None
    assert transport.waits == [0.3] and e.duration_ms == pytest.approx(300.0)


def test_a_hold_shorter_than_the_timeout_ends_in_a_disconnect() -> None:
    c, transport, _ = client(FaultRule("hang", HangBeforeFault(1.0)), timeout=5.0)
    with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
        c.get("/investors")
    assert transport.waits == [1.0]


def test_withhold_after_commits_then_times_out() -> None:
    c, transport, upstream = client(FaultRule("lost", WithholdAfterFault(30.0), method="POST"), timeout=0.3)
    with pytest.raises(httpx.ReadTimeout):
        c.post("/investors", json={}, headers={"Idempotency-Key": "k"})
    (e,) = transport.exchanges()
    assert len(upstream.seen) == 1 and e.upstream_committed and e.upstream_status == 201 and e.status is None


def test_drop_after_and_reset() -> None:
    c, transport, upstream = client(
        FaultRule("drop", DropAfterFault(), nth=1),
        FaultRule("rst", ResetFault(), nth=2),
        FaultRule("rst-late", ResetFault(after_forward=True), nth=3),
    )
    with pytest.raises(httpx.RemoteProtocolError):
        c.post("/investors", json={})
    with pytest.raises(httpx.ReadError):
        c.post("/investors", json={})
    with pytest.raises(httpx.ReadError):
        c.post("/investors", json={})
    assert len(upstream.seen) == 2
    assert [(e.outcome, e.upstream_committed) for e in transport.exchanges()] == [
        ("dropped", True),
        ("reset", False),
        ("reset", True),
    ]


def test_upstream_errors_are_reraised_and_recorded() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    transport = FaultTransport(httpx.MockTransport(refuse))
    with httpx.Client(transport=transport) as c, pytest.raises(httpx.ConnectError):
        c.get("http://bluum/v1/investors")
    (e,) = transport.exchanges()
    assert e.outcome == "upstream_error" and "connection refused" in (e.error or "") and e.status is None


def test_encoded_bodies_pass_through_unchanged() -> None:
    payload = gzip.compress(b'{"ok": true}')

    def gzipped(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=payload, headers={"Content-Encoding": "gzip"})

    with httpx.Client(transport=FaultTransport(httpx.MockTransport(gzipped))) as c:
        assert c.get("http://bluum/v1/x").json() == {"ok": True}


def test_async_client() -> None:
    upstream = Upstream()
    transport = FaultTransport(httpx.MockTransport(upstream), Plan((FaultRule("x", StatusFault(503), nth=2),)))

    async def go() -> list[int]:
        async with httpx.AsyncClient(transport=transport, base_url="http://bluum/v1") as c:
            return [(await c.get("/investors")).status_code for _ in range(3)]

    assert asyncio.run(go()) == [201, 503, 201]
    assert len(upstream.seen) == 2 and [e.seq for e in transport.exchanges()] == [1, 2, 3]


def test_control_methods_match_the_proxy() -> None:
    c, transport, _ = client()
    transport.add_rule(FaultRule("x", StatusFault(500)))
    assert c.get("/a").status_code == 500
    transport.clear_faults()
    assert c.get("/a").status_code == 201
    transport.set_plan(Plan((FaultRule("y", StatusFault(502)),)))
    assert c.get("/a").status_code == 502 and transport.remove_rule("y")
    transport.reset()
    assert transport.exchanges() == [] and c.get("/a").status_code == 201


class AwaitsTheLoop:
    async def apply(self, request: ProxyRequest, forward: Forward) -> Outcome:
        await asyncio.sleep(0)
        return await forward()


def test_a_fault_that_needs_an_event_loop_is_a_harness_error_in_sync_clients() -> None:
    c, _, _ = client(FaultRule("x", AwaitsTheLoop()))
    with pytest.raises(HarnessError, match="may only wait through request.sleep"):
        c.get("/a")


def test_mismatched_inner_transport() -> None:
    async_inner = FaultTransport(httpx.AsyncHTTPTransport())
    with httpx.Client(transport=async_inner) as c, pytest.raises(HarnessError, match="use it with httpx.AsyncClient"):
        c.get("http://bluum/")


class Broken:
    async def apply(self, request: ProxyRequest, forward: Forward) -> Outcome:
        raise RuntimeError("bug in a fault")


def test_a_broken_fault_is_a_harness_error_and_recorded() -> None:
    c, transport, _ = client(FaultRule("broken", Broken()))
    with pytest.raises(HarnessError, match="fault rule 'broken' failed"):
        c.get("/a")
    assert transport.exchanges()[0].outcome == "proxy_error"
