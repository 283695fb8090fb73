"""The fault proxy through 1,000 exchanges with seeded random faults, in front of a real twin.

Proves that the recorder is complete (exactly one exchange per request the clients made, carrying the fault
that was applied and agreeing with what the client saw), that the seeded dice are reproducible (the faults
applied are the ones an offline engine with the same plan picks), and that nothing leaks: after the clients
close, the proxy holds no client connections, its upstream pool stays bounded, and once it stops the
process's file descriptors and TCP connections are back to where they were (tolerance: ``FD_TOLERANCE``).
"""

from __future__ import annotations

import collections
import threading
from typing import Any

import httpx
import psutil

from bluum_readiness._client_tls import default_tls_context
from bluum_readiness.proxy import (
    DropAfterFault,
    FaultEngine,
    FaultRule,
    LatencyFault,
    Plan,
    ProxyServer,
    ResetFault,
    StatusFault,
)
from bluum_readiness.twin import TwinServer
from tests.reliability.world import active_investor, wait_for

EXCHANGES = 1000
CLIENTS = 4
UPSTREAM_POOL = 20  # httpx's default max_keepalive_connections, the proxy's upstream pool
FD_TOLERANCE = 2  # descriptors the interpreter may open lazily on first use (e.g. a thread's resources)
PLAN = Plan(
    (
        FaultRule("unavailable", StatusFault(503), probability=0.08),
        FaultRule("throttled", StatusFault(429, retry_after=1), probability=0.05),
        FaultRule("slow", LatencyFault(0.002), probability=0.08),
        FaultRule("dropped", DropAfterFault(), probability=0.04),
        FaultRule("reset", ResetFault(), probability=0.04),
        FaultRule("reset-after", ResetFault(after_forward=True), probability=0.03),
    ),
    seed=20261125,
)
EXPECTED_OUTCOME = {
    "unavailable": "status",
    "throttled": "status",
    "slow": "forwarded",
    "dropped": "dropped",
    "reset": "reset",
    "reset-after": "reset",
    None: "forwarded",
}


def _tcp(process: psutil.Process) -> list[Any]:
    return [c for c in process.net_connections(kind="tcp") if c.status == psutil.CONN_ESTABLISHED]


def _offline_choices() -> collections.Counter[str | None]:
    """What the plan's seeded dice pick for EXCHANGES requests, without any network."""
    engine = FaultEngine(PLAN)
    picks = (engine.select("GET", "/v1/x") for _ in range(EXCHANGES))
    return collections.Counter(rule.name if rule else None for rule in picks)


def _client_loop(proxy: ProxyServer, twin: TwinServer, investor: str, worker: int, seen: dict[str, Any]) -> None:
    estimate = {"symbol": "AAPL", "side": "buy", "type": "market", "time_in_force": "day", "quantity": "1"}
    with httpx.Client(base_url=proxy.base_url, auth=twin.auth, timeout=5, verify=default_tls_context()) as c:
        for i in range(EXCHANGES // CLIENTS):
            soak_id = f"{worker}-{i}"
            headers = {"X-Soak-Id": soak_id}
            try:
                if i % 3 == 0:
                    r = c.post(f"/investors/{investor}/order-estimates", json=estimate, headers=headers)
                elif i % 3 == 1:
                    r = c.get(f"/investors/{investor}", headers=headers)
                else:
                    r = c.get("/assets/AAPL", headers=headers)
                seen[soak_id] = r.status_code
            except httpx.TransportError as exc:
                seen[soak_id] = type(exc).__name__


def test_a_thousand_faulted_exchanges_are_all_recorded_and_leak_nothing(live_twin, live_client):
    investor = active_investor(live_client)
    me = psutil.Process()
    fds_before, tcp_before = me.num_fds(), len(_tcp(me))

    proxy = ProxyServer(live_twin.base_url, PLAN).start()
    try:
        seen: dict[str, Any] = {}
        workers = [
            threading.Thread(target=_client_loop, args=(proxy, live_twin, investor, n, seen)) for n in range(CLIENTS)
        ]
        for w in workers:
            w.start()
        for w in workers:
            w.join(timeout=120)
        assert len(seen) == EXCHANGES

        exchanges = proxy.exchanges(settle=5)
        _recorder_is_complete(exchanges, seen)
        applied = collections.Counter(e.fault for e in exchanges)
        assert applied == _offline_choices(), "the seeded dice picked other faults than the plan's seed gives"
        assert all(applied[r.name] > 0 for r in PLAN.rules), applied

        # the clients are closed: the proxy keeps no connection from them, and a bounded upstream pool
        wait_for(lambda: not [c for c in _tcp(me) if c.laddr.port == proxy.port], "client connections closing")
        upstream = [c for c in _tcp(me) if c.raddr and c.raddr.port == int(live_twin.origin.rsplit(":", 1)[1])]
        assert len(upstream) <= UPSTREAM_POOL, f"{len(upstream)} upstream connections after {EXCHANGES} exchanges"
    finally:
        proxy.stop()

    def settled() -> bool:
        return me.num_fds() <= fds_before + FD_TOLERANCE and len(_tcp(me)) <= tcp_before

    try:
        wait_for(settled, "descriptors and connections returning to the baseline", timeout=5)
    except AssertionError:
        raise AssertionError(
            f"leak: fds {fds_before} -> {me.num_fds()}, established TCP {tcp_before} -> {len(_tcp(me))}"
        ) from None


def _recorder_is_complete(exchanges: list[Any], seen: dict[str, Any]) -> None:
    assert len(exchanges) == EXCHANGES
    assert [e.seq for e in exchanges] == list(range(1, EXCHANGES + 1))
    by_id = {e.header("x-soak-id"): e for e in exchanges}
    assert set(by_id) == set(seen), "an exchange is missing or recorded twice"
    for soak_id, client_saw in seen.items():
        e = by_id[soak_id]
        assert e.outcome == EXPECTED_OUTCOME[e.fault], (soak_id, e.fault, e.outcome)
        if isinstance(client_saw, int):
            assert e.status == client_saw, (soak_id, e.status, client_saw)
            assert e.status == (503 if e.fault == "unavailable" else 429 if e.fault == "throttled" else 200)
        else:
            assert e.status is None and e.outcome in ("dropped", "reset"), (soak_id, client_saw, e.outcome)
        assert e.upstream_committed == (e.fault not in ("unavailable", "throttled", "reset")), soak_id
        assert e.auth_key_id is not None and "***" in (e.header("authorization") or "")


def test_leak_check_notices_a_leak(live_twin):
    """The accounting the soak relies on sees a single client socket left open (so the soak's check can fail)."""
    me = psutil.Process()
    twin_port = int(live_twin.origin.rsplit(":", 1)[1])
    leaked = httpx.Client(base_url=live_twin.base_url, auth=live_twin.auth)
    try:
        leaked.get("/assets/AAPL")
        with_leak = me.num_fds()
        assert [c for c in _tcp(me) if c.raddr and c.raddr.port == twin_port], "the open client is not seen"
    finally:
        leaked.close()
    wait_for(lambda: me.num_fds() < with_leak, "the one leaked descriptor being gone once closed")
