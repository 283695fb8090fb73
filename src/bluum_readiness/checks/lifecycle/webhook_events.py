"""``lifecycle.webhook-events``: a short journey with the integration's receiver registered at the twin; every
event the twin emitted about the investor must be acknowledged and applied exactly once."""

from __future__ import annotations

from typing import Any

from bluum_readiness.checks._support import (
    delivering_receiver,
    investor_events,
    twin_deliveries,
    twin_signs_for_the_receiver,
)
from bluum_readiness.checks.judge import Facts, Finding, Unjudged, Verdict, judged
from bluum_readiness.checks.lifecycle._journey import Journey, Stop, journey_trail, step_finding, target_failure
from bluum_readiness.checks.lifecycle._shared import ITEM, order_body
from bluum_readiness.checks.observation import Scene, scenario
from bluum_readiness.failures import NotVerifiable
from bluum_readiness.harness import poll
from bluum_readiness.testing import investor_profile, plaid_bank


@scenario("journey-webhooks", facts=("events", "deliveries", "applied"))
def _journey_webhooks(s: Scene) -> None:
    """A short journey through the integration (investor, KYC, bank, deposit, buy, withdrawal) with its receiver
    registered at the twin: every event the twin emitted about the investor, the twin's deliveries of them, and
    what the receiver applied (``processed_events()``), once every delivery settled (bounded)."""
    h = s.h
    integration = s.integration
    url, processed = delivering_receiver(h, integration)
    if not h.target.twin:
        raise NotVerifiable("matching Bluum's events with the receiver's needs the twin's event log (twin mode only)")
    twin_signs_for_the_receiver(h)
    # The twin delivers, as Bluum would: register the receiver (it trusts the suite's local CA).
    hook_id = h.register_webhook(url)

    # A short journey through the integration: every state change emits an event.
    j = Journey(h, integration)
    try:
        investor = j.create(
            "create investor", "create_investor", lambda: integration.create_investor(investor_profile())
        )
        j.poll_integration(
            "KYC approved",
            "kyc_status() to report 'active'",
            lambda: integration.kyc_status(investor),
            lambda s: s == "active",
            target=(f"/investors/{investor}", ("active",)),
        )
        bank = j.create(
            "link Plaid bank", "link_bank_account", lambda: integration.link_bank_account(investor, plaid_bank())
        )
        dep = j.create("deposit", "deposit", lambda: integration.deposit(investor, bank, "500.00"))
        j.poll_target("deposit completes", f"/investors/{investor}/deposits/{dep}", "completed", resource_id=dep)
        order = j.create(
            "market buy",
            "place_order",
            lambda: integration.place_order(investor, order_body("market", "INTC", "buy", "1")),
        )
        j.wait_order(investor, "market buy fills", order, "filled")
        wd = j.create("withdraw", "withdraw", lambda: integration.withdraw(investor, bank, "100.00"))
        j.poll_target("withdrawal completes", f"/investors/{investor}/withdrawals/{wd}", "completed", resource_id=wd)
    except Stop:
        record = j.records[-1]
        finding = step_finding(record)
        why = finding.observed if finding is not None else target_failure(record)
        assert why is not None
        raise NotVerifiable(
            f"the journey stopped at step '{record['step']}' ({why}), so the events this check judges could not "
            "follow (lifecycle.full-journey judges the journey)"
        ) from None
    s.evidence("journey", journey_trail(j.records))

    # Every event the twin emitted about this investor, delivered by the twin (signed, its own payload and
    # event id), must be acknowledged and applied by the receiver exactly once.
    events = investor_events(h, investor)
    wanted = {e["id"] for e in events}

    def settled() -> list[dict[str, Any]]:
        return [d for d in twin_deliveries(h, hook_id) if d["event_id"] in wanted]

    def done(got: list[str]) -> bool:
        states = settled()
        return len(states) == len(wanted) and all(d["status"] != "pending" for d in states) and wanted <= set(got)

    applied: list[str] = poll(lambda: list(processed()), done, h.thresholds.settle_timeout_s)
    found = settled()
    s.evidence("webhook_events", [{"id": e["id"], "event": e["event"]} for e in events])
    s.evidence("deliveries", found)
    s.fact("events", [{"id": e["id"], "event": e["event"]} for e in events])
    s.fact("deliveries", [{k: d.get(k) for k in ("event_id", "event_type", "status")} for d in found])
    s.fact("applied", applied)


@judged(
    "lifecycle.webhook-events",
    item=ITEM,
    title="Webhook events for each state change reach the receiver",
    needs=("journey-webhooks.events", "journey-webhooks.deliveries", "journey-webhooks.applied"),
    requires=("webhook_url", "processed_events"),
)
def webhook_events(facts: Facts) -> Verdict:
    events: list[dict[str, Any]] = facts["journey-webhooks.events"]
    deliveries: list[dict[str, Any]] = facts["journey-webhooks.deliveries"]
    applied: list[str] = facts["journey-webhooks.applied"]
    if not events:
        return Unjudged("the journey emitted no event at the twin, so there was no delivery to judge")
    refused = [f"{d['event_type']} ({d['event_id']}): {d['status']}" for d in deliveries if d["status"] != "delivered"]
    missing = [f"{e['event']} ({e['id']})" for e in events if e["id"] not in applied]
    repeated = [f"{e['event']} ({e['id']}) ×{applied.count(e['id'])}" for e in events if applied.count(e["id"]) > 1]
    if not (refused or missing or repeated):
        return None
    parts = [
        ("valid-delivery-refused", f"not acknowledged with 2xx: {', '.join(refused)}" if refused else ""),
        ("event-not-applied", f"not applied: {', '.join(missing)}" if missing else ""),
        ("duplicate-effects", f"applied more than once: {', '.join(repeated)}" if repeated else ""),
    ]
    shown = [(cause, text) for cause, text in parts if text]
    return Finding(
        shown[0][0],
        "every event of the journey (investor, deposit, order and withdrawal changes), delivered signed to the "
        "receiver, acknowledged with 2xx and applied exactly once (processed_events())",
        "; ".join(text for _, text in shown),
        "answer 2xx to every valid, signed delivery and apply each event id once (dedupe on webhook-id)",
        evidence={"events": events},
    )
