"""The recorder: redaction (the secret never appears anywhere), filtering, listeners, thread safety."""

from __future__ import annotations

import asyncio
import base64
import json
import threading

import pytest

from bluum_readiness.clock import ManualClock
from bluum_readiness.proxy import FaultEngine, Recorder, sanitize_headers
from bluum_readiness.proxy.faults import ProxyRequest, Respond
from bluum_readiness.proxy.pipeline import Pipeline
from bluum_readiness.proxy.recorder import Exchange

KEY, SECRET = "test_bluum_" + "ab" * 32, "cd" * 32


def basic(key: str = KEY, secret: str = SECRET) -> str:
    return "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()


def record(headers: tuple[tuple[str, str], ...], body: bytes = b'{"a": 1}') -> Exchange:
    recorder = Recorder()
    pipeline = Pipeline(FaultEngine(), recorder, ManualClock())

    async def forward() -> Respond:
        return Respond(201, (("X-Request-Id", "req_1"), ("Set-Cookie", f"s={SECRET}")), b"{}", upstream=True)

    done = asyncio.run(pipeline.process(ProxyRequest("POST", "/v1/investors", "a=1", headers, body), forward))
    return pipeline.finish(done)


def test_only_the_key_id_of_authorization_is_kept() -> None:
    exchange = record((("Authorization", basic()), ("Idempotency-Key", "k-1"), ("X-Api-Secret", SECRET)))
    assert exchange.auth_key_id == KEY
    assert exchange.header("authorization") == f"Basic {KEY}:***"
    assert exchange.idempotency_key == "k-1"
    for rendering in (repr(exchange), str(exchange), json.dumps(exchange.to_dict())):
        assert SECRET not in rendering
        assert base64.b64encode(f"{KEY}:{SECRET}".encode()).decode() not in rendering


def test_other_schemes_and_malformed_basic_are_masked() -> None:
    headers, key_id = sanitize_headers(
        [("authorization", "Bearer tok_secret"), ("Cookie", "a=b"), ("Authorization", "Basic !!notbase64")]
    )
    assert headers == (("authorization", "Bearer ***"), ("Cookie", "***"), ("Authorization", "Basic ***"))
    assert key_id is None
    no_colon = "Basic " + base64.b64encode(SECRET.encode()).decode()
    assert sanitize_headers([("Authorization", no_colon)]) == ((("Authorization", "Basic ***"),), None)


def test_the_exchange_records_request_response_and_timing() -> None:
    exchange = record((("Authorization", basic()),), body=b"payload")
    assert (exchange.seq, exchange.method, exchange.path, exchange.query) == (1, "POST", "/v1/investors", "a=1")
    assert exchange.body_sha256 == "239f59ed55e737c77147cf55ad0c1b030b6d7ee748a7426952f9b852d5a935e5"
    assert exchange.body_size == 7
    assert (exchange.status, exchange.upstream_status, exchange.request_id) == (201, 201, "req_1")
    assert exchange.outcome == "forwarded" and exchange.upstream_committed and exchange.fault is None
    assert exchange.response_header("set-cookie") == "***"
    assert exchange.started == exchange.finished == ManualClock().now() and exchange.duration_ms == 0
    assert Exchange.from_dict(json.loads(json.dumps(exchange.to_dict()))) == exchange


def make(seq: int, **fields: object) -> Exchange:
    base: dict[str, object] = dict(
        seq=seq, method="GET", path="/v1/investors", query="", idempotency_key=None, auth_key_id=None,
        request_headers=(), body_sha256="", body_size=0, status=200, request_id=None, response_headers=(),
        started=0.0, finished=0.0, duration_ms=0.0, upstream_status=200, upstream_ms=0.0,
        upstream_committed=True, fault=None, fault_kind=None, outcome="forwarded",
    )  # fmt: skip
    base.update(fields)
    return Exchange(**base)  # type: ignore[arg-type]


def test_filters_snapshot_order_listeners_and_clear() -> None:
    recorder = Recorder()
    seen: list[int] = []
    unsubscribe = recorder.subscribe(lambda e: seen.append(e.seq))
    recorder.append(make(2, method="POST", path="/v1/investors/inv_1/deposits", idempotency_key="k"))
    recorder.append(make(1, fault="rl", outcome="status"))
    unsubscribe()
    recorder.append(make(3))
    assert [e.seq for e in recorder.snapshot()] == [1, 2, 3]
    assert seen == [2, 1]
    assert [e.seq for e in recorder.filter(method="post", path="/v1/investors/*/deposits")] == [2]
    assert [e.seq for e in recorder.filter(fault="rl")] == [1]
    assert [e.seq for e in recorder.filter(outcome="forwarded", idempotency_key="k")] == [2]
    recorder.clear()
    assert len(recorder) == 0 and recorder.next_seq() == 1


def test_a_failing_listener_does_not_break_recording(caplog: pytest.LogCaptureFixture) -> None:
    recorder = Recorder()

    def broken(exchange: Exchange) -> None:
        raise RuntimeError("sink down")

    recorder.subscribe(broken)
    recorder.append(make(1))
    assert len(recorder) == 1 and "an exchange listener failed" in caplog.text


def test_concurrent_appends_lose_nothing() -> None:
    recorder = Recorder()

    def work() -> None:
        for _ in range(200):
            recorder.append(make(recorder.next_seq()))

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [e.seq for e in recorder.snapshot()] == list(range(1, 1601))


def test_redaction_does_not_depend_on_the_case_or_number_of_header_names() -> None:
    """Names are classified once and remembered (a bounded table): every spelling is still redacted."""
    spellings = [("X-API-KEY", SECRET), ("x-api-key", SECRET), ("Authorization", basic()), ("AUTHORIZATION", basic())]
    many = [(f"X-Header-{i}", "v") for i in range(3000)]  # far more names than the table keeps
    for _ in range(2):
        headers, key_id = sanitize_headers([*spellings, *many, *spellings])
        assert key_id == KEY and SECRET not in repr(headers)
        assert [v for _, v in headers[:4]] == ["***", "***", f"Basic {KEY}:***", f"Basic {KEY}:***"]
        assert headers[4:-4] == tuple(many)
