"""Webhook events: recorded when state changes, fanned out to matching webhooks as deliveries.

An event body is ``{"id": "evt_…", "event": name, "timestamp": ISO, "data": resource}``;
it is stored as the exact bytes every delivery sends and signs.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from bluum_readiness.twin.store import Resource, public
from bluum_readiness.twin.values import iso

if TYPE_CHECKING:
    from bluum_readiness.twin.engine import Twin

__all__ = ["EVENT_TYPES", "emit", "matches"]

EVENT_TYPES: dict[str, str] = {
    "account.created": "An investor account was created.",
    "account.updated": "An investor account changed status.",
    "kyc.verification.approved": "An investor passed KYC and is active.",
    "document.approved": "An uploaded document was accepted.",
    "document.rejected": "An uploaded document was rejected.",
    "order.accepted": "An order was accepted.",
    "order.filled": "An order filled completely.",
    "order.partially_filled": "An order filled partially.",
    "order.canceled": "An order was cancelled.",
    "order.rejected": "An order failed.",
    "transfer.deposit.initiated": "A deposit was initiated.",
    "transfer.deposit.completed": "A deposit completed.",
    "transfer.deposit.failed": "A deposit failed or expired.",
    "transfer.withdrawal.initiated": "A withdrawal was initiated.",
    "transfer.withdrawal.completed": "A withdrawal completed.",
    "transfer.withdrawal.failed": "A withdrawal failed.",
}


def matches(patterns: list[str], event_type: str) -> bool:
    """True when any pattern names the event: exact, ``*``, or a domain wildcard such as ``order.*``."""
    for pattern in patterns:
        if pattern in ("*", event_type):
            return True
        if pattern.endswith(".*") and event_type.startswith(pattern[:-1]):
            return True
    return False


def emit(twin: Twin, tenant_id: str, event_type: str, data: Resource) -> str:
    """Record an event and queue one delivery per active webhook subscribed to it. Call inside a transaction."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type!r}")
    now = twin.clock.now()
    event_id = twin.ids.new("evt")
    body = json.dumps({"id": event_id, "event": event_type, "timestamp": iso(now), "data": public(data)})
    twin.db.execute(
        "INSERT INTO events (id, tenant_id, type, created, seq, body) VALUES (?,?,?,?,?,?)",
        (event_id, tenant_id, event_type, now, twin.db.next_seq(), body),
    )
    for hook in twin.store.list(tenant_id, "webhook", where=lambda w: w.get("status") == "active"):
        if matches(hook.get("event_type_names", []), event_type):
            twin.db.execute(
                "INSERT INTO deliveries (id, tenant_id, event_id, webhook_id, status, attempts, next_attempt_at, "
                "created) VALUES (?,?,?,?, 'pending', 0, ?, ?)",
                (twin.ids.new("dlv"), tenant_id, event_id, hook["id"], now, now),
            )
    return event_id
