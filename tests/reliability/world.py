"""A tenant's world of resources built through the public API of a twin on a real socket."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import httpx

from bluum_readiness.harness import poll
from bluum_readiness.testing import investor_profile
from tests.twin.money_helpers import connect_plaid, key

T = TypeVar("T")


def wait_for(check: Callable[[], T | None], what: str, timeout: float = 10.0) -> T:
    """Poll ``check`` (bounded) until it returns something truthy; fail naming ``what``."""
    result: T | None = poll(check, bool, timeout, interval=0.01)
    if not result:
        raise AssertionError(f"{what} did not happen within {timeout} s")
    return result


def status_of(client: httpx.Client, path: str, wanted: tuple[str, ...]) -> dict[str, Any] | None:
    """The resource at ``path`` once its status is one of ``wanted``, else None."""
    r = client.get(path)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body if body["status"] in wanted else None


def active_investor(client: httpx.Client, **overrides: Any) -> str:
    """A new investor whose KYC has been approved (the twin decides in the background)."""
    r = client.post("/investors", json=investor_profile(**overrides))
    assert r.status_code == 201, r.text
    investor_id: str = r.json()["id"]
    wait_for(lambda: status_of(client, f"/investors/{investor_id}", ("active",)), "KYC approval")
    return investor_id


def build_world(client: httpx.Client) -> dict[str, str]:
    """One of each tenant-owned resource, keyed by the path parameter that names it in the API."""
    inv = active_investor(client)
    fs = connect_plaid(client, inv)["id"]
    money = {"currency": "USD", "method": "ach", "funding_source_id": fs}
    dep = client.post(f"/investors/{inv}/deposits", json={"amount": "500.00", **money}, headers=key()).json()["id"]
    wait_for(lambda: status_of(client, f"/investors/{inv}/deposits/{dep}", ("completed",)), "the deposit settling")
    # a second deposit that stays pending (manual), so cancel and sandbox controls have something to act on
    pending = client.post(
        f"/investors/{inv}/deposits", json={"amount": "5.00", "currency": "USD", "method": "manual_bank_transfer"},
        headers=key(),
    )  # fmt: skip
    assert pending.status_code == 201, pending.text
    wd = client.post(f"/investors/{inv}/withdrawals", json={"amount": "10.00", **money}, headers=key()).json()["id"]
    order = {"symbol": "AAPL", "side": "buy", "type": "market", "time_in_force": "day", "quantity": "1"}
    ord_id = client.post(f"/investors/{inv}/orders", json=order).json()["id"]
    wait_for(lambda: status_of(client, f"/investors/{inv}/orders/{ord_id}", ("filled",)), "the order filling")
    pos = client.get(f"/investors/{inv}/positions").json()["data"][0]["id"]
    doc = client.post(
        "/documents",
        data={"document_type": "id", "investor_id": inv},
        files={"document": ("a.pdf", b"%PDF-1.4", "application/pdf")},
    ).json()["id"]
    # subscribed to an event the twin never emits: no delivery traffic to the unreachable URL
    hook = {"url": "http://127.0.0.1:9/h", "eventTypeNames": ["document.rejected"], "name": "n"}
    wh = client.post("/webhooks", json=hook).json()
    apk = client.post(f"/investors/{inv}/api-keys", json={}).json()["id"]
    return {
        "investor_id": inv,
        "funding_source_id": fs,
        "deposit_id": dep,
        "pending_deposit_id": pending.json()["id"],
        "withdrawal_id": wd,
        "order_id": ord_id,
        "position_id": pos,
        "document_id": doc,
        "webhook_id": wh["id"],
        "api_key_id": apk,
        "symbol": "AAPL",
    }
