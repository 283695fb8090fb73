"""The reference integration's alerts: ``AlertMonitor`` driven by an injected clock, and the adapter's ``alerts()``
fed by its real client over a scripted transport (no sleeping, no network)."""

from __future__ import annotations

import logging
import random

import httpx
import pytest

from bluum_readiness.integration import IntegrationEnv
from bluum_readiness.reference import create_fast
from bluum_readiness.reference._alerts import FAST_ALERTS, AlertMonitor, AlertPolicy
from tests.reference._doubles import BASE_URL, OLD, SECRET, Script, error


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def monitor(clock: Clock, **policy: float) -> AlertMonitor:
    return AlertMonitor(AlertPolicy(**policy), clock=clock)  # type: ignore[arg-type]


def kinds(m: AlertMonitor) -> list[str]:
    return [a["kind"] for a in m.alerts()]


def never(investor_id: str, order_id: str) -> str | None:
    raise AssertionError("no order should need confirming")


# -- 5xx and 429 ----------------------------------------------------------------------------------------------


def test_one_5xx_is_weather_a_burst_is_an_alert_once_per_episode(clock):
    m = monitor(clock, elevated_5xx_count=5, window_s=60.0)
    for status in (503, 200, 200, 502, 500, 504):
        m.observe("GET", "/v1/investors/inv_1", status, "req_1")
        clock.now += 1
    assert kinds(m) == []
    m.observe("GET", "/v1/investors/inv_1", 503, "req_2")
    assert kinds(m) == ["elevated_5xx"]
    alert = m.alerts()[0]
    assert alert["count"] == 5 and alert["status"] == 503 and alert["request_id"] == "req_2" and alert["at"]
    for _ in range(10):  # the same episode: no alert storm
        m.observe("GET", "/v1/investors/inv_1", 503, "req_3")
    assert kinds(m) == ["elevated_5xx"]
    clock.now += 61  # the window empties: the alert re-arms
    m.observe("GET", "/v1/investors/inv_1", 200, "req_4")
    for _ in range(5):
        m.observe("GET", "/v1/investors/inv_1", 500, "req_5")
    assert kinds(m) == ["elevated_5xx", "elevated_5xx"]


def test_5xx_spread_wider_than_the_window_never_alerts(clock):
    m = monitor(clock, elevated_5xx_count=3, window_s=10.0)
    for _ in range(10):
        m.observe("GET", "/v1/assets", 503, None)
        clock.now += 6
    assert kinds(m) == []


def test_a_429_alerts_at_once_and_names_the_request(clock):
    m = monitor(clock)
    m.observe("GET", "/v1/investors/inv_1", 200, "req_1")
    assert kinds(m) == []
    m.observe("POST", "/v1/investors/inv_1/orders", 429, "req_9")
    m.observe("POST", "/v1/investors/inv_1/orders", 429, "req_10")
    assert kinds(m) == ["rate_limited"]
    assert m.alerts()[0]["request_id"] == "req_9" and "orders" in m.alerts()[0]["message"]


def test_policy_refuses_nonsense():
    with pytest.raises(ValueError, match="one 5xx is not elevated"):
        AlertPolicy(elevated_5xx_count=1)
    with pytest.raises(ValueError, match="> 0"):
        AlertPolicy(stuck_order_after_s=0)


# -- stuck orders ---------------------------------------------------------------------------------------------


def test_an_order_non_terminal_past_the_threshold_is_confirmed_then_alerted_once(clock):
    m = monitor(clock, stuck_order_after_s=300.0)
    m.order_placed("inv_1", {"id": "ord_1", "status": "pending", "type": "market"})
    clock.now += 299
    m.sweep(never)
    assert kinds(m) == []
    clock.now += 2
    confirmed: list[str] = []

    def confirm(investor_id: str, order_id: str) -> str:
        confirmed.append(order_id)
        return "open"

    m.sweep(confirm)
    m.sweep(confirm)
    assert confirmed == ["ord_1"] and kinds(m) == ["stuck_order"]
    alert = m.alerts()[0]
    assert (alert["order_id"], alert["investor_id"], alert["status"], alert["age_s"]) == ("ord_1", "inv_1", "open", 301)


def test_an_order_that_filled_quietly_is_dropped_not_reported(clock):
    m = monitor(clock, stuck_order_after_s=5.0)
    m.order_placed("inv_1", {"id": "ord_1", "status": "pending", "type": "market"})
    clock.now += 6
    m.sweep(lambda investor_id, order_id: "filled")
    clock.now += 600
    m.sweep(never)
    assert kinds(m) == []


def test_terminal_reads_end_the_watch_and_resting_orders_have_their_own_threshold(clock):
    m = monitor(clock, stuck_order_after_s=5.0, resting_order_after_s=100.0)
    m.order_placed("inv_1", {"id": "ord_m", "status": "pending", "type": "market"})
    m.order_placed("inv_1", {"id": "ord_l", "status": "pending", "type": "limit"})
    m.order_placed("inv_1", {"id": "ord_f", "status": "filled", "type": "market"})  # done already: not watched
    m.order_seen("ord_m", "cancelled")
    m.order_seen("ord_l", "open")
    clock.now += 50
    m.sweep(never)
    assert kinds(m) == []
    clock.now += 51
    m.sweep(lambda investor_id, order_id: "open")
    assert [a["order_id"] for a in m.alerts()] == ["ord_l"]


def test_resting_orders_can_be_exempt(clock):
    m = AlertMonitor(AlertPolicy(resting_order_after_s=None), clock=clock)
    m.order_placed("inv_1", {"id": "ord_l", "status": "open", "type": "limit"})
    clock.now += 10**6
    m.sweep(never)
    assert kinds(m) == []


def test_an_unreadable_order_is_still_reported(clock, caplog):
    m = monitor(clock, stuck_order_after_s=1.0)
    m.order_placed("inv_1", {"id": "ord_1", "status": "pending", "type": "market"})
    clock.now += 2

    def broken(investor_id: str, order_id: str) -> str:
        raise RuntimeError("bluum is down")

    m.sweep(broken)
    assert m.alerts()[0]["status"] == "pending"


# -- webhook failures -----------------------------------------------------------------------------------------


def test_a_create_without_its_webhook_alerts_after_the_grace(clock):
    m = monitor(clock, webhook_grace_s=60.0)
    m.expect_webhook("dep_0", "deposit")  # the receiver is not serving yet: nothing to expect
    m.webhooks_expected = True
    m.expect_webhook("dep_1", "deposit")
    m.expect_webhook("ord_1", "order")
    m.expect_webhook("wd_1", "withdrawal")
    m.webhook_seen("ord_1")
    clock.now += 61
    m.sweep(never, received=lambda resource_id: "completed" if resource_id == "wd_1" else None)
    m.sweep(never)
    assert [(a["kind"], a["resource_id"], a["resource"]) for a in m.alerts()] == [
        ("webhook_failure", "dep_1", "deposit")
    ]


def test_alerts_are_logged_as_errors(clock, caplog):
    caplog.set_level(logging.ERROR, logger="bluum_readiness.reference.alerts")
    m = monitor(clock)
    m.observe("GET", "/v1/assets", 429, "req_7")
    assert "ALERT rate_limited" in caplog.text and "req_7" in caplog.text


# -- the adapter: alerts() over the real client ----------------------------------------------------------------


def order(status: str, order_id: str = "ord_1") -> httpx.Response:
    return httpx.Response(201, json={"id": order_id, "status": status, "type": "limit"},
                          headers={"X-Request-Id": "req_x"})  # fmt: skip


def adapter(script: Script, clock: Clock):  # type: ignore[no-untyped-def]
    env = IntegrationEnv(base_url=BASE_URL, credentials=lambda: OLD)
    return create_fast(env, transport=httpx.MockTransport(script), rng=random.Random(1), sleep=lambda s: None,
                       clock=clock)  # fmt: skip


def test_adapter_alerts_on_a_5xx_burst_and_a_429_from_its_own_traffic(clock):
    script = Script([503, 503, 503, 503, 503, error(429, "BLUM-429-001", retry_after="0")])
    integration = adapter(script, clock)
    with pytest.raises(Exception, match="BLUM-500"):
        integration.kyc_status("inv_1")  # five attempts, five 503s
    assert [a["kind"] for a in integration.alerts()] == ["elevated_5xx"]
    integration.kyc_status("inv_1")  # a 429, then success
    assert [a["kind"] for a in integration.alerts()] == ["elevated_5xx", "rate_limited"]
    assert SECRET not in repr(integration.alerts())


def test_adapter_confirms_a_stuck_order_with_one_read_before_alerting(clock):
    script = Script([order("pending"), order("open")])
    integration = adapter(script, clock)
    integration.place_order("inv_1", {"symbol": "MSFT", "type": "limit", "side": "buy", "quantity": "1"})
    assert integration.alerts() == []
    clock.now += FAST_ALERTS.resting_order_after_s + 1  # type: ignore[operator]
    alerts = integration.alerts()
    assert [(a["kind"], a["order_id"], a["status"]) for a in alerts] == [("stuck_order", "ord_1", "open")]
    assert [r.method for r in script.requests] == ["POST", "GET"]
    assert integration.alerts() == alerts and len(script.requests) == 2  # reported once, read once


def test_adapter_drops_an_order_it_saw_finish(clock):
    script = Script([order("pending"), order("filled")])
    integration = adapter(script, clock)
    integration.place_order("inv_1", {"symbol": "MSFT", "type": "market", "side": "buy", "quantity": "1"})
    integration.get_order("inv_1", "ord_1")
    clock.now += 3600
    assert integration.alerts() == [] and len(script.requests) == 2
