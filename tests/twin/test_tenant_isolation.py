"""Tenant isolation on every route: another partner account can neither see nor touch a tenant's resources."""

from __future__ import annotations

import re
from typing import Any

from starlette.routing import Route

from bluum_readiness.testing import plaid_bank
from bluum_readiness.twin import app as twin_app

NO_IDS = {"/openapi.json", "/assets", "/assets/search", "/assets/{symbol}", "/webhooks/event-types", "/investors",
          "/webhooks", "/documents"}  # fmt: skip


def _owned_resources(t: Any) -> dict[str, str]:
    c = t.client
    inv = t.new_investor()["id"]
    fs = c.post(f"/investors/{inv}/funding-sources/connect", json=plaid_bank()).json()["data"][0]["id"]
    dep = c.post(
        f"/investors/{inv}/deposits",
        headers={"Idempotency-Key": "d"},
        json={"amount": "500.00", "currency": "USD", "method": "ach", "funding_source_id": fs},
    ).json()["id"]
    t.advance()
    wd = c.post(
        f"/investors/{inv}/withdrawals",
        headers={"Idempotency-Key": "w"},
        json={"amount": "10.00", "currency": "USD", "method": "ach", "funding_source_id": fs},
    ).json()["id"]
    order = {"symbol": "AAPL", "side": "buy", "type": "market", "time_in_force": "day", "quantity": "1"}
    ord_id = c.post(f"/investors/{inv}/orders", json=order).json()["id"]
    t.advance()
    pos = c.get(f"/investors/{inv}/positions").json()["data"][0]["id"]
    doc = c.post(
        "/documents",
        data={"document_type": "id", "investor_id": inv},
        files={"document": ("a.pdf", b"%PDF", "application/pdf")},
    ).json()["id"]
    wh = c.post("/webhooks", json={"url": "http://127.0.0.1:9/h", "eventTypeNames": ["*"], "name": "n"}).json()["id"]
    apk = c.post(f"/investors/{inv}/api-keys", json={}).json()["id"]
    return dict(investor_id=inv, funding_source_id=fs, deposit_id=dep, withdrawal_id=wd, order_id=ord_id,
                position_id=pos, document_id=doc, webhook_id=wh, api_key_id=apk)  # fmt: skip


def _valid_body(method: str, path: str) -> dict[str, Any] | None:
    """A body the route would accept from its owner, so only isolation decides the answer."""
    if method not in ("POST", "PUT", "PATCH"):
        return None
    money = {"amount": "1.00", "currency": "USD", "method": "ach", "funding_source_id": "fs_01j9x8m2k7qpzwv3t5r6y8n0ab"}
    order = {"symbol": "AAPL", "side": "buy", "type": "market", "time_in_force": "day", "quantity": "1"}
    by_suffix = {
        "/connect": plaid_bank(),
        "/deposits": money,
        "/withdrawals": money,
        "/orders": order,
        "/order-estimates": order,
        "/trusted-contact": {"first_name": "A", "last_name": "B", "email": "a@b.co", "phone": "+14155550100"},
    }
    for suffix, body in by_suffix.items():
        if path.endswith(suffix):
            return body
    return {"name": "renamed"} if method == "PATCH" else {}


def test_every_route_with_an_id_answers_404_to_another_tenant(inproc):
    ids = _owned_resources(inproc)
    intruder = inproc.client_for(inproc.twin.create_tenant("intruder"))
    checked = 0
    for route in twin_app.api_routes():
        assert isinstance(route, Route)
        if route.path in NO_IDS:
            continue
        path = re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], route.path)
        for method in sorted((route.methods or set()) - {"HEAD"}):
            r = intruder.request(
                method, path, json=_valid_body(method, route.path), headers={"Idempotency-Key": f"x-{checked}"}
            )
            assert r.status_code == 404, (method, path, r.text)
            assert r.json()["error"]["code"] == "BLUM-404-001", (method, path)
            checked += 1
    assert checked >= 30
    # and the owner still sees everything untouched
    assert inproc.client.get(f"/investors/{ids['investor_id']}/orders/{ids['order_id']}").json()["status"] == "filled"


def test_lists_never_show_another_tenants_resources(inproc):
    _owned_resources(inproc)
    intruder = inproc.client_for(inproc.twin.create_tenant("intruder"))
    for path in ("/investors", "/webhooks", "/documents"):
        assert intruder.get(path).json()["data"] == [], path
    assert intruder.get("http://twin/_sandbox/ledger").json()["data"] == []
    assert intruder.get("http://twin/_sandbox/events").json()["data"] == []
