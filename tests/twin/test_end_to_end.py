"""The whole sandbox lifecycle over real sockets, with a real webhook receiver verifying every signature."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
from standardwebhooks import Webhook

from bluum_readiness.harness import poll
from bluum_readiness.testing import investor_profile, manual_bank, plaid_bank
from tests.twin._webhook_helpers import receiver


def _wait(client: httpx.Client, path: str, status: str, timeout: float = 5.0) -> dict[str, Any]:
    body: dict[str, Any] = poll(lambda: client.get(path).json(), lambda b: b["status"] == status, timeout, 0.01)
    assert body["status"] == status, f"{path} stayed {body['status']!r}, expected {status!r}"
    return body


def test_full_lifecycle_with_verified_webhooks(twin_server, client):
    sandbox = httpx.Client(base_url=twin_server.origin + "/_sandbox", auth=twin_server.auth, timeout=10)
    with receiver() as hook_receiver:
        hook = client.post("/webhooks", json={"url": hook_receiver.url, "eventTypeNames": ["*"], "name": "e2e"})
        assert hook.status_code == 201
        secret = hook.json()["secret"]

        inv = client.post("/investors", json=investor_profile()).json()["id"]
        _wait(client, f"/investors/{inv}", "active")
        upload = client.post(
            "/documents",
            data={"document_type": "id_verification", "purpose": "KYC", "investor_id": inv},
            files={"document": ("id.pdf", b"%PDF-1.4 e2e", "application/pdf")},
        )
        assert upload.status_code == 201
        _wait(client, f"/documents/{upload.json()['id']}", "accepted")

        plaid = client.post(f"/investors/{inv}/funding-sources/connect", json=plaid_bank()).json()["data"][0]
        manual = client.post(f"/investors/{inv}/funding-sources/connect", json=manual_bank()).json()
        assert plaid["bank_name"] == "First Platypus Bank" and manual["type"] == "manual"

        ach = client.post(
            f"/investors/{inv}/deposits",
            json={"amount": "10000.00", "currency": "USD", "method": "ach", "funding_source_id": plaid["id"]},
            headers={"Idempotency-Key": "e2e-dep-ach"},
        ).json()
        _wait(client, f"/investors/{inv}/deposits/{ach['id']}", "completed")
        wire = client.post(
            f"/investors/{inv}/deposits",
            json={"amount": "500.00", "currency": "USD", "method": "manual_bank_transfer"},
            headers={"Idempotency-Key": "e2e-dep-manual"},
        ).json()
        assert wire["status"] == "pending" and wire["method_details"]["reference_code"].startswith("BLUUM-")
        assert sandbox.post(f"/deposits/{wire['id']}/complete").status_code == 200

        price = Decimal(str(client.get("/assets/MSFT").json()["price"]))
        buy = {"symbol": "MSFT", "side": "buy", "time_in_force": "gtc"}
        market = client.post(f"/investors/{inv}/orders", json={**buy, "type": "market", "quantity": "2"}).json()
        _wait(client, f"/investors/{inv}/orders/{market['id']}", "filled")
        limit_price = (price * Decimal("0.9")).quantize(Decimal("0.01"))
        limit = client.post(
            f"/investors/{inv}/orders", json={**buy, "type": "limit", "quantity": "3", "limit_price": str(limit_price)}
        ).json()
        _wait(client, f"/investors/{inv}/orders/{limit['id']}", "open")
        new_price = (price * Decimal("0.85")).quantize(Decimal("0.01"))
        assert sandbox.put("/prices/MSFT", json={"price": str(new_price)}).status_code == 200
        _wait(client, f"/investors/{inv}/orders/{limit['id']}", "filled")

        far = client.post(
            f"/investors/{inv}/orders", json={**buy, "type": "limit", "quantity": "1", "limit_price": "1.00"}
        ).json()
        _wait(client, f"/investors/{inv}/orders/{far['id']}", "open")
        assert client.post(f"/investors/{inv}/orders/{far['id']}/cancel").json()["status"] == "cancelled"

        [position] = client.get(f"/investors/{inv}/positions").json()["data"]
        assert position["symbol"] == "MSFT" and Decimal(position["quantity"]) == 5
        cost = 2 * price + 3 * new_price
        assert Decimal(position["average_cost_basis"]) == (cost / 5).quantize(Decimal("0.01"))
        assert Decimal(position["market_value"]) == 5 * new_price

        wd = client.post(
            f"/investors/{inv}/withdrawals",
            json={"amount": "1000.00", "currency": "USD", "method": "ach", "funding_source_id": plaid["id"]},
            headers={"Idempotency-Key": "e2e-wd"},
        ).json()
        _wait(client, f"/investors/{inv}/withdrawals/{wd['id']}", "completed")

        [wallet] = client.get(f"/investors/{inv}/wallets").json()["data"]
        expected_cash = Decimal("10500.00") - cost - Decimal("1000.00")
        assert Decimal(wallet["balance"]) == expected_cash.quantize(Decimal("0.01"))
        assert Decimal(wallet["equity"]) == (expected_cash + 5 * new_price).quantize(Decimal("0.01"))
        ledger = sandbox.get("/ledger", params={"investor_id": inv}).json()["data"]
        assert sorted(e["kind"] for e in ledger) == ["buy", "buy", "deposit", "deposit", "withdrawal"]
        assert len({e["operation_id"] for e in ledger}) == len(ledger)  # one movement per operation

        expected = {
            "account.created", "account.updated", "kyc.verification.approved", "document.approved",
            "transfer.deposit.initiated", "transfer.deposit.completed", "order.accepted", "order.filled",
            "order.canceled", "transfer.withdrawal.initiated", "transfer.withdrawal.completed",
        }  # fmt: skip
        hook_receiver.wait_for(lambda r: expected <= set(r.events()))
        verifier = Webhook(secret)
        for delivery in hook_receiver.received:
            payload = verifier.verify(delivery.body, delivery.headers)
            assert payload["id"] == delivery.headers["webhook-id"] and payload["id"].startswith("evt_")
        fills = [r.json["data"]["id"] for r in hook_receiver.received if r.json["event"] == "order.filled"]
        assert sorted(fills) == sorted([market["id"], limit["id"]])
    sandbox.close()
