"""InProcessProxy: the fault engine as an in-process transport to a real twin, on a virtual clock."""

from __future__ import annotations

import inspect
import random
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from bluum_readiness.config import RunConfig
from bluum_readiness.errors import ConfigError, HarnessError
from bluum_readiness.integration import Credentials, IntegrationEnv
from bluum_readiness.proxy import FaultRule, HangBeforeFault, ProxyServer, StatusFault, WithholdAfterFault
from bluum_readiness.proxy.inprocess import InProcessProxy, VirtualTime
from bluum_readiness.reference import create_fast
from bluum_readiness.run import Run
from bluum_readiness.suite.session import SuiteSession
from bluum_readiness.twin import TwinServer

INVESTORS = "/v1/investors"


@pytest.fixture
def proxy(twin_server: TwinServer) -> Iterator[InProcessProxy]:
    with InProcessProxy(twin_server.base_url) as p:
        yield p


def client(proxy: InProcessProxy, twin: TwinServer, timeout: float | None = 0.5) -> httpx.Client:
    return httpx.Client(base_url=proxy.base_url, auth=twin.auth, timeout=timeout, transport=proxy.transport())


def test_it_offers_what_the_harness_and_session_use_of_a_proxy_server(
    proxy: InProcessProxy, twin_server: TwinServer
) -> None:
    assert proxy.base_url == twin_server.base_url  # requests keep their URL: the transport carries them
    for name in ("add_rule", "remove_rule", "clear_faults", "set_plan", "exchanges", "reset", "start", "stop"):
        ours, theirs = inspect.signature(getattr(proxy, name)), inspect.signature(getattr(ProxyServer, name))
        assert list(ours.parameters) == [p for p in theirs.parameters if p != "self"][: len(ours.parameters)], name
    assert proxy.engine is not None and proxy.recorder is not None


def test_requests_reach_the_twin_and_are_recorded_on_the_virtual_clock(
    proxy: InProcessProxy, twin_server: TwinServer
) -> None:
    with client(proxy, twin_server) as c:
        start = proxy.time.now()
        assert c.get("/assets", params={"limit": 1}).status_code == 200
    (x,) = proxy.exchanges()
    assert (x.method, x.path, x.status, x.outcome) == ("GET", "/v1/assets", 200, "forwarded")
    assert x.request_id and x.request_id.startswith("req_")
    assert x.started == x.finished == start  # nothing waited: no virtual time passed


def test_a_hang_costs_the_read_timeout_in_virtual_seconds_only(proxy: InProcessProxy, twin_server: TwinServer) -> None:
    proxy.add_rule(FaultRule("hang", HangBeforeFault(seconds=30.0), method="GET", first=1))
    with client(proxy, twin_server, timeout=0.5) as c:
        began, real = proxy.time.now(), time.monotonic()
        with pytest.raises(httpx.ReadTimeout):
            c.get("/assets")
        assert time.monotonic() - real < 5.0  # no real half-second wait either (generous for a loaded machine)
        assert proxy.time.now() - began == pytest.approx(0.5)
        assert c.get("/assets").status_code == 200  # the rule fired once
    hung, after = proxy.exchanges()
    assert (hung.outcome, hung.duration_ms) == ("timeout", 500.0)
    assert after.started == pytest.approx(hung.finished)


def test_a_client_without_a_timeout_waits_the_whole_hold(proxy: InProcessProxy, twin_server: TwinServer) -> None:
    proxy.add_rule(FaultRule("hang", HangBeforeFault(seconds=2.0), method="GET", first=1))
    with client(proxy, twin_server, timeout=None) as c, pytest.raises(httpx.RemoteProtocolError):
        c.get("/assets")
    assert proxy.exchanges()[0].duration_ms == 2000.0


def test_a_withheld_response_was_committed_at_the_twin(proxy: InProcessProxy, twin_server: TwinServer) -> None:
    proxy.add_rule(FaultRule("withhold", WithholdAfterFault(seconds=1.5), method="POST", path=INVESTORS, first=1))
    with client(proxy, twin_server) as c, pytest.raises(httpx.ReadTimeout):
        c.post("/investors", json={"type": "individual"})
    (x,) = proxy.exchanges()
    assert x.upstream_committed and x.upstream_status is not None and x.status is None


def test_the_integrations_sleep_moves_the_clock_the_exchanges_are_stamped_on(
    proxy: InProcessProxy, twin_server: TwinServer
) -> None:
    """The reference, built with the proxy's transport and sleep, honours Retry-After: 1 in one virtual second."""
    proxy.add_rule(FaultRule("ra", StatusFault(429, retry_after=1), method="GET", path="/v1/assets/*", first=1))
    env = IntegrationEnv(proxy.base_url, lambda: Credentials(twin_server.pair.key, twin_server.pair.secret), 0.5)
    integration = create_fast(env, rng=random.Random(1), **proxy.integration_options())
    real = time.monotonic()
    try:
        assert integration.client.get_asset("AAPL")["symbol"] == "AAPL"
    finally:
        integration.close()
    assert time.monotonic() - real < 0.9  # the second was not really waited
    limited, retried = proxy.exchanges()
    assert (limited.status, retried.status) == (429, 200)
    assert retried.started - limited.finished == pytest.approx(1.0, abs=1e-9)
    assert proxy.time.slept == pytest.approx(1.0)


def test_closing_an_integrations_client_leaves_the_proxy_running(
    proxy: InProcessProxy, twin_server: TwinServer
) -> None:
    client(proxy, twin_server).close()
    with client(proxy, twin_server) as c:
        assert c.get("/assets", params={"limit": 1}).status_code == 200


def test_clear_faults_keeps_the_record_and_reset_empties_it(proxy: InProcessProxy, twin_server: TwinServer) -> None:
    proxy.add_rule(FaultRule("503", StatusFault(503), method="GET"))
    with client(proxy, twin_server) as c:
        assert c.get("/assets").status_code == 503
        assert proxy.remove_rule("503") and not proxy.remove_rule("503")
        assert c.get("/assets", params={"limit": 1}).status_code == 200
        proxy.add_rule(FaultRule("again", StatusFault(500)))
        proxy.clear_faults()
        assert c.get("/assets", params={"limit": 1}).status_code == 200
    assert [x.status for x in proxy.exchanges()] == [503, 200, 200]
    proxy.reset()
    assert proxy.exchanges() == []


def test_a_stopped_proxy_refuses_plainly(twin_server: TwinServer) -> None:
    p = InProcessProxy(twin_server.base_url)
    with pytest.raises(HarnessError, match="not started"):
        p.transport()
    p.start()
    with pytest.raises(HarnessError, match="already started"):
        p.start()
    c = httpx.Client(base_url=p.base_url, transport=p.transport())
    p.stop()
    p.stop()  # idempotent
    with pytest.raises(HarnessError):
        c.get("/assets")


def test_virtual_time_is_shared_by_threads() -> None:
    t = VirtualTime(start=0.0)
    workers = [threading.Thread(target=lambda: [t.sleep(0.001) for _ in range(1000)]) for _ in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert t.now() == pytest.approx(4.0) and t.slept == pytest.approx(4.0) and t.monotonic() == t.now()
    t.sleep(-1.0)  # a negative sleep is no sleep
    assert t.now() == pytest.approx(4.0)


def test_a_session_in_virtual_time_hands_factories_the_transport_and_sleep() -> None:
    made: list[dict[str, object]] = []

    def factory(env: IntegrationEnv, **options: object) -> object:
        made.append(options)
        return create_fast(env, **options)  # type: ignore[arg-type]

    session = SuiteSession.embedded(virtual_time=True)
    try:
        assert session.virtual_time
        session.factory = factory
        with session.harness() as h:
            h.integration()
            before, real = h.clock(), time.monotonic()
            h.sleep(2.5)
            assert h.clock() - before == 2.5 and time.monotonic() - real < 1.0
        assert set(made[0]) == {"transport", "sleep"}
        session.factory = lambda env: create_fast(env)
        with session.harness() as h, pytest.raises(HarnessError, match="virtual time"):
            h.integration()
    finally:
        session.close()


def test_virtual_time_needs_the_embedded_twin(twin_server: TwinServer) -> None:
    config = RunConfig().override(target=twin_server.base_url)
    with pytest.raises(ConfigError, match="embedded twin"):
        SuiteSession(Run(config, Credentials(*twin_server.auth)), virtual_time=True)
