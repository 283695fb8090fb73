"""Helpers shared by the trading tests (orders, positions, assets)."""

from __future__ import annotations

from typing import Any

from bluum_readiness.twin.domain import ledger

SANDBOX = "http://twin/_sandbox"


def fund(inproc: Any, investor_id: str, amount_cents: int = 1_000_000) -> None:
    """Credit an investor directly through the ledger (deposits are another package's work)."""
    with inproc.twin.db.tx():
        op = "dep_" + inproc.twin.ids.new("dep")[4:]
        ledger.post(inproc.twin, inproc.pair.tenant_id, investor_id, op, "deposit", amount_cents)


def funded_investor(inproc: Any, amount_cents: int = 1_000_000) -> str:
    investor_id: str = inproc.new_investor()["id"]
    fund(inproc, investor_id, amount_cents)
    return investor_id


def set_price(inproc: Any, symbol: str, price: str) -> dict[str, Any]:
    r = inproc.client.put(f"{SANDBOX}/prices/{symbol}", json={"price": price})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def place(inproc: Any, investor_id: str, **fields: Any) -> dict[str, Any]:
    """Place an order (201 expected) and run due jobs; returns the order as stored afterwards."""
    body = {"symbol": "AAPL", "side": "buy", "type": "market", "time_in_force": "day", **fields}
    r = inproc.client.post(f"/investors/{investor_id}/orders", json=body)
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "pending"
    inproc.advance()
    return get_order(inproc, investor_id, r.json()["id"])


def get_order(inproc: Any, investor_id: str, order_id: str) -> dict[str, Any]:
    r = inproc.client.get(f"/investors/{investor_id}/orders/{order_id}")
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def wallet_figures(inproc: Any, investor_id: str) -> tuple[int, int]:
    """(balance, available) in cents, from the ledger."""
    t, tenant = inproc.twin, inproc.pair.tenant_id
    return ledger.balance_cents(t, tenant, investor_id), ledger.available_cents(t, tenant, investor_id)


def positions(inproc: Any, investor_id: str, **params: Any) -> list[dict[str, Any]]:
    r = inproc.client.get(f"/investors/{investor_id}/positions", params=params)
    assert r.status_code == 200, r.text
    data: list[dict[str, Any]] = r.json()["data"]
    return data
