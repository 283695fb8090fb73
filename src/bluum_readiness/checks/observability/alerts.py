"""``observability.alert-5xx``, ``alert-429``, ``alert-stuck-order``, ``alert-webhook-failure``: each a scenario
(normal traffic watched for a false alarm, then the cause brought on and the alert awaited: ``_alert_sources``)
and a judge over what it saw (``_alert_watch``), from ``alerts()`` and/or the team's alerting pipeline
(``[alerts]``: notifications to the run's listener; docs/alerts.md). Without ``alerts()`` and ``[alerts]`` /
without ``webhook_url`` the checks that need them are *not verifiable*."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from bluum_readiness.checks._alert_sources import LISTENER, AlertSources
from bluum_readiness.checks._support import INVESTOR, twin_deliveries, twin_signs_for_the_receiver
from bluum_readiness.checks.judge import Facts, Finding, Passed, Verdict, judged
from bluum_readiness.checks.observability._alert_watch import (
    alert_evidence,
    alert_verdict,
    named_alert,
    no_alert,
    shown_alerts,
    watch_fact,
)
from bluum_readiness.checks.observability._captured import ITEM
from bluum_readiness.checks.observation import Scene, scenario
from bluum_readiness.failures import NotVerifiable
from bluum_readiness.harness import poll
from bluum_readiness.proxy.faults import StatusFault
from bluum_readiness.proxy.rules import FaultRule

if TYPE_CHECKING:
    from bluum_readiness.harness import Harness

BURST_5XX = 10  # a burst: this many 5xx answers within a few seconds
HITS_429 = 3


def _burst(h: Harness, integration: Any, investor: str, rule: FaultRule, hits: int) -> int:
    """Call ``kyc_status`` until the proxy answered ``hits`` faults under ``rule`` (at most ``hits`` calls)."""
    mark = h.mark()
    with h.faults(rule):
        for _ in range(hits):
            h.invoke(lambda: integration.kyc_status(investor), timeout=30.0)
            if len([x for x in h.proxy.exchanges(settle=0)[mark:] if x.fault == rule.name]) >= hits:
                break
    return len([x for x in h.exchanges_since(mark) if x.fault == rule.name])


@scenario("alert-5xx", facts=("watch",))
def _alert_5xx(s: Scene) -> None:
    """One retried 503 and normal traffic (watched for a false ``elevated_5xx``), then 10 × 503 on ``GET
    /investors/*`` and the alert awaited."""
    h = s.h
    integration = s.integration
    src = AlertSources.of(h, integration, "elevated_5xx")
    investor = h.active_investor()
    normal = "normal traffic with one retried 503"
    settled = src.settle()
    quiet = src.mark()
    if not settled:
        single = FaultRule("single-503", StatusFault(503), method="GET", path=INVESTOR, first=1)
        if _burst(h, integration, investor, single, 1) == 0:
            raise NotVerifiable("kyc_status() sent no request, so no 5xx could reach the integration")
        for _ in range(2):
            h.invoke(lambda: integration.kyc_status(investor))
    false_alarms = [] if settled else src.watch_quiet(quiet)
    cause, answered, fired = src.mark(), 0, []
    if not settled and not false_alarms:
        burst = FaultRule("burst-5xx", StatusFault(503), method="GET", path=INVESTOR, first=BURST_5XX)
        answered = _burst(h, integration, investor, burst, BURST_5XX)
        fired = src.wait_for(cause)
    s.evidence("alerts", {"burst_5xx": answered})
    s.fact(
        "watch",
        watch_fact(
            src,
            normal=normal,
            cause=f"a burst of {answered} 503 answers",
            settled=settled,
            false_alarms=false_alarms,
            fired=fired,
            since=cause,
        ),
    )


@judged(
    "observability.alert-5xx",
    item=ITEM,
    title="An alert fires on a burst of 5xx (and not on one retried 5xx)",
    needs=("alert-5xx.watch",),
    requires=("alerts",),
)
def alert_5xx(facts: Facts) -> Verdict:
    return alert_verdict(
        facts["alert-5xx.watch"], "count 5xx answers (every attempt) in a sliding window; alert over a limit"
    )


@scenario("alert-429", facts=("watch",))
def _alert_429(s: Scene) -> None:
    """Normal traffic (watched for a false ``rate_limited``), then three 429s and the alert awaited."""
    h = s.h
    integration = s.integration
    src = AlertSources.of(h, integration, "rate_limited")
    investor = h.active_investor()
    settled = src.settle()
    quiet = src.mark()
    if not settled:
        for _ in range(3):
            h.invoke(lambda: integration.kyc_status(investor))
    false_alarms = [] if settled else src.watch_quiet(quiet)
    cause, answered, fired = src.mark(), 0, []
    if not settled and not false_alarms:
        rule = FaultRule("hits-429", StatusFault(429, retry_after=0), method="GET", path=INVESTOR, first=HITS_429)
        answered = _burst(h, integration, investor, rule, HITS_429)
        if answered == 0:
            raise NotVerifiable("kyc_status() sent no request, so no 429 could reach the integration")
        fired = src.wait_for(cause)
    s.evidence("alerts", {"answered_429": answered})
    s.fact(
        "watch",
        watch_fact(
            src,
            normal="normal traffic",
            cause=f"{answered} 429 answers",
            settled=settled,
            false_alarms=false_alarms,
            fired=fired,
            since=cause,
        ),
    )


@judged(
    "observability.alert-429",
    item=ITEM,
    title="An alert fires when Bluum answers 429",
    needs=("alert-429.watch",),
    requires=("alerts",),
)
def alert_429(facts: Facts) -> Verdict:
    return alert_verdict(
        facts["alert-429.watch"], "alert on 429s: the integration is over its rate limit and users wait"
    )


def _order_status(h: Harness, investor: str, order_id: str) -> str:
    status: str = h.call("GET", f"/investors/{investor}/orders/{order_id}")["status"]
    return status


@scenario("alert-stuck-order", facts=("watch",), twin_only=True)
def _alert_stuck_order(s: Scene) -> None:
    """A market buy that fills (watched for a false ``stuck_order``), then a limit buy held open by the twin and the
    alert awaited; an alert that names no order (count-based) is then watched to resolve once the held order is
    cancelled."""
    h = s.h
    integration = s.integration
    src = AlertSources.of(h, integration, "stuck_order")
    investor, _ = h.funded_investor()
    symbol = "MSFT"
    price = Decimal(str(h.call("GET", f"/assets/{symbol}")["price"]))
    settled = src.settle()
    quiet = src.mark()
    market_body = {"symbol": symbol, "side": "buy", "type": "market", "time_in_force": "day", "quantity": "1"}
    placed = h.invoke(lambda: integration.place_order(investor, market_body))
    if not placed.ok or not str(placed.result).startswith("ord_"):
        raise NotVerifiable(f"place_order() did not place a market order ({placed.describe()})")
    market = str(placed.result)
    h.wait_for(f"market order {market} to fill", lambda: _order_status(h, investor, market) == "filled")
    false_alarms = [] if settled else src.watch_quiet(quiet)
    cause, fired, released, held = src.mark(), [], None, None
    if not settled and not false_alarms:
        limit_body = {
            "symbol": symbol,
            "side": "buy",
            "type": "limit",
            "time_in_force": "gtc",
            "quantity": "1",
            "limit_price": f"{(price / 2):.2f}",
        }
        placed = h.invoke(lambda: integration.place_order(investor, limit_body))
        if not placed.ok or not str(placed.result).startswith("ord_"):
            raise NotVerifiable(f"place_order() did not place a limit order ({placed.describe()})")
        held = str(placed.result)
        cancel = f"/investors/{investor}/orders/{held}/cancel"
        h.sandbox("POST", f"/orders/{held}/hold")
        h.on_close(lambda: h.call("POST", cancel, expect=(200, 201, 409)))
        fired = src.wait_for(cause, about=held if src.feed is None else None)
        if fired and not any(held in json.dumps(a, default=str) or a.get("order_id") for a in fired):
            h.call("POST", cancel, expect=(200, 201, 409))  # a count-based alert must end with the stuck order
            released = src.still_firing()
    s.evidence("alerts", {"held_order": held, "filled_order": market})
    s.fact(
        "watch",
        watch_fact(
            src,
            normal=f"the life of market order {market}, which filled at once",
            cause=f"order {held} being held open at the target",
            settled=settled,
            false_alarms=false_alarms + src.seen(quiet, about=market),
            fired=fired,
            since=cause,
            held=held,
            filled=market,
            released=released,
        ),
    )


@judged(
    "observability.alert-stuck-order",
    item=ITEM,
    title="An alert fires for an order held non-terminal past the threshold (not for one that filled)",
    needs=("alert-stuck-order.watch",),
    twin_only=True,
    requires=("alerts",),
)
def alert_stuck_order(facts: Facts) -> Verdict:
    w = facts["alert-stuck-order.watch"]
    fix = (
        "watch the orders you placed (webhooks or polling) and alert when one stays non-terminal longer than "
        "expected (the alert must name it, or fire only while an order is stuck)"
    )
    verdict = alert_verdict(w, fix)
    if not isinstance(verdict, Passed):
        return verdict
    held = w["held"]
    naming = [a for a in w["fired"] if held in json.dumps(a, default=str)]
    others = sorted({str(a["order_id"]) for a in w["fired"] if a.get("order_id")} - {held})
    if naming:
        return verdict
    if others:
        return Finding(
            "alert-missing",
            f"a {named_alert(w)} alert naming the held order {held}",
            f"{shown_alerts(w['fired'])} named {', '.join(others)}, not {held}",
            fix,
            evidence=alert_evidence(w),
        )
    if w["released"]:
        return Finding(
            "alert-false-alarm",
            f"a {named_alert(w)} alert that names no order fires only while an order is stuck: it resolves within "
            f"{w['timeout_s']:g} s of the held order {held} being cancelled",
            f"{shown_alerts(w['released'])} still firing {w['timeout_s']:g} s after {held} was cancelled",
            "alert on the age of the oldest non-terminal order (a gauge that drops when the order ends), not on a "
            "count that only grows; with Alertmanager keep send_resolved: true (docs/alerts.md)",
            evidence={**alert_evidence(w), "released": w["released"]},
        )
    if LISTENER not in w["sources"]:  # alerts() must name the order: the wait looked for it by id
        return no_alert(w, fix)
    return verdict


class _FailingEndpoint:
    """An HTTPS endpoint (the suite's local CA, which the twin trusts) that answers 503 to every delivery: the
    integration's receiver behind a broken gateway."""

    def __init__(self) -> None:
        from starlette.requests import Request
        from starlette.responses import Response

        from bluum_readiness.webhooks.tls import serve_deliveries

        self.hits = 0

        async def fail(request: Request) -> Response:
            self.hits += 1
            return Response('{"error": "gateway down"}', status_code=503, media_type="application/json")

        self.server = serve_deliveries(fail)
        self.url = self.server.url + "/"

    def stop(self) -> None:
        self.server.stop()


@scenario("alert-webhook-failure", facts=("watch",), twin_only=True)
def _alert_webhook_failure(s: Scene) -> None:
    """The receiver registered and a deposit's deliveries acknowledged (watched for a false ``webhook_failure``),
    then the webhook pointed at an endpoint answering 503, a second deposit, and the alert awaited."""
    h = s.h
    integration = s.integration
    src = AlertSources.of(h, integration, "webhook_failure")
    url = h.capability(integration, "webhook_url")
    if not isinstance(url, str) or not url:
        raise NotVerifiable("the integration exposes no webhook_url (an optional capability of the adapter)")
    twin_signs_for_the_receiver(h)
    investor, bank = h.funded_investor()
    hook_id = h.register_webhook(url)
    settled = src.settle()
    quiet = src.mark()

    # normal weather: a deposit whose events are delivered and acknowledged
    first = h.invoke(lambda: integration.deposit(investor, bank, "5.00"))
    if not first.ok:
        raise NotVerifiable(f"deposit() failed ({first.describe()}), so no webhook could follow it")
    delivered = poll(
        lambda: twin_deliveries(h, hook_id),
        lambda ds: bool(ds) and all(d["status"] == "delivered" for d in ds),
        h.thresholds.settle_timeout_s,
        h.poll_interval,
    )
    if not delivered or not all(d["status"] == "delivered" for d in delivered):
        raise NotVerifiable(f"the twin could not deliver to the receiver at {url} (see webhooks.end-to-end)")
    false_alarms = [] if settled else src.watch_quiet(quiet)
    cause, fired, hits = src.mark(), [], 0
    if not settled and not false_alarms:
        # the endpoint fails: every delivery answers 503 until the twin parks it
        endpoint = _FailingEndpoint()
        h.on_close(endpoint.stop)
        h.call("PATCH", f"/webhooks/{hook_id}", json={"url": endpoint.url})
        second = h.invoke(lambda: integration.deposit(investor, bank, "6.00"))
        if not second.ok:
            raise NotVerifiable(f"deposit() failed ({second.describe()}), so no webhook could follow it")
        failing = poll(
            lambda: twin_deliveries(h, hook_id)[len(delivered) :],
            lambda ds: any(a["status_code"] == 503 for d in ds for a in d["attempts"]),
            h.thresholds.settle_timeout_s,
            h.poll_interval,
        )
        fired = src.wait_for(cause)
        hits = endpoint.hits
        s.evidence("alerts", {"failing_endpoint": endpoint.url, "failed_attempts": hits, "deliveries": failing})
    s.fact(
        "watch",
        watch_fact(
            src,
            normal="deliveries that succeed",
            cause=f"the twin's deliveries failing ({hits} attempts answered 503)",
            settled=settled,
            false_alarms=false_alarms,
            fired=fired,
            since=cause,
        ),
    )


@judged(
    "observability.alert-webhook-failure",
    item=ITEM,
    title="An alert fires when webhook deliveries to the integration fail",
    needs=("alert-webhook-failure.watch",),
    twin_only=True,
    requires=("alerts", "webhook_url"),
)
def alert_webhook_failure(facts: Facts) -> Verdict:
    return alert_verdict(
        facts["alert-webhook-failure.watch"],
        "notice missing webhooks: expect an event for every deposit, withdrawal and order you create, and alert "
        "when none arrives within a grace period",
    )
