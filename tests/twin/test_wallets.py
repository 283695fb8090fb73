from __future__ import annotations

import time
import uuid

from bluum_readiness.testing import investor_profile, plaid_bank
from bluum_readiness.twin.domain import transfers
from tests.twin.money_helpers import deposit, error, funded, wallet, withdraw

UUID = "6f1c2a52-3f5e-4f3e-9d2b-0c8a1e2b3c4d"


def test_new_investor_has_one_empty_usd_wallet(inproc):
    investor = inproc.new_investor()
    r = inproc.client.get(f"/investors/{investor['id']}/wallets")
    assert r.status_code == 200
    body = r.json()
    assert body["object"] == "list" and body["url"] == f"/v1/investors/{investor['id']}/wallets"
    (w,) = body["data"]
    assert w["id"].startswith("wlt_") and w["object"] == "wallet" and w["livemode"] is False
    assert w["investor_id"] == investor["id"] and w["currency"] == "USD" and w["status"] == "active"
    for field in ("balance", "available_balance", "reserved_balance", "cash_withdrawable", "buying_power", "equity"):
        assert w[field] == "0.00", field
    r = inproc.client.get("/investors/inv_01j9x8m2k7qpzwv3t5r6y8n0ab/wallets")
    assert r.status_code == 404 and error(r)["code"] == "BLUM-404-001"
    r = inproc.client.get(f"/investors/{UUID}/wallets")
    assert r.status_code == 400 and error(r)["code"] == "BLUM-400-003"


def test_equity_adds_the_market_value_of_positions(inproc):
    investor, _ = funded(inproc, "100.00")
    tenant = inproc.pair.tenant_id
    with inproc.twin.db.tx():
        for value in ("25.50", None):
            position = inproc.twin.new_resource("pos", "position", investor_id=investor["id"], symbol="AAPL")
            if value is not None:
                position["market_value"] = value
            inproc.twin.store.insert(tenant, position)
    w = wallet(inproc.client, investor["id"])
    assert w["balance"] == "100.00" and w["equity"] == "125.50"


def test_wallet_status_follows_a_closed_investor(inproc):
    investor = inproc.new_investor()
    assert inproc.client.post(f"/investors/{investor['id']}/close", json={}).status_code == 200
    assert wallet(inproc.client, investor["id"])["status"] == "closed"


def test_transactions_mirror_deposits_and_withdrawals(inproc):
    investor, source = funded(inproc, "100.00")
    assert withdraw(inproc.client, investor["id"], "30.00", source["id"]).status_code == 201
    assert deposit(inproc.client, investor["id"], "7.00", method="manual_bank_transfer").status_code == 201
    base = f"/investors/{investor['id']}/transactions"
    txns = inproc.client.get(base).json()
    assert txns["object"] == "list" and txns["url"] == f"/v1{base}"
    assert [(t["type"], t["status"], t["amount"]) for t in txns["data"]] == [
        ("deposit", "completed", "100.00"),
        ("withdrawal", "pending", "30.00"),
        ("deposit", "pending", "7.00"),
    ]
    first = txns["data"][0]
    assert first["id"].startswith("txn_") and first["object"] == "transaction"
    assert first["investor_id"] == investor["id"] and first["wallet_id"] == wallet(inproc.client, investor["id"])["id"]
    assert first["method"] == "ach" and first["currency"] == "USD" and first["completed_at"].endswith("Z")
    assert first["failed_at"] is None and first["failure_reason"] is None
    assert not any(k.startswith("_") for k in first)

    inproc.advance()  # the withdrawal completes
    inproc.advance(7 * 24 * 3600)  # the manual deposit expires
    by_status = {t["type"] + t["amount"]: t for t in inproc.client.get(base).json()["data"]}
    assert by_status["withdrawal30.00"]["status"] == "completed"
    expired = by_status["deposit7.00"]
    assert expired["status"] == "failed" and expired["failure_reason"] == "expired" and expired["failed_at"]

    def types(**params):
        r = inproc.client.get(base, params=params)
        assert r.status_code == 200, r.text
        return [(t["type"], t["status"]) for t in r.json()["data"]]

    assert types(type="withdrawal") == [("withdrawal", "completed")]
    assert types(status="failed") == [("deposit", "failed")]
    assert types(type="deposit", status="completed") == [("deposit", "completed")]
    assert types(type="activity") == []
    assert len(types(date_from="2026-01-01", date_to="2026-01-01")) == 3
    assert types(date_from="2026-01-02") == []
    assert len(types(limit="2")) == 2
    for params, code, param in [
        ({"date_from": "2026-01-05", "date_to": "2026-01-01"}, "BLUM-400-007", "date_from"),
        ({"date_to": "tomorrow"}, "BLUM-400-003", "date_to"),
        ({"type": "dividend"}, "BLUM-400-004", "type"),
        ({"status": "filled"}, "BLUM-400-004", "status"),
        ({"limit": "500"}, "BLUM-400-003", "limit"),
    ]:
        r = inproc.client.get(base, params=params)
        assert r.status_code == 400 and (error(r)["code"], error(r)["param"]) == (code, param), params


def test_record_transaction_creates_then_updates_one_transaction(inproc):
    investor = inproc.new_investor()
    tenant = inproc.pair.tenant_id
    twin = inproc.twin
    with twin.db.tx():
        txn = transfers.record_transaction(
            twin, tenant, investor["id"], type="buy", amount_cents=17850, status="pending", operation_id="ord_x"
        )
    assert txn["amount"] == "178.50" and txn["status"] == "pending" and txn["method"] is None
    with twin.db.tx():
        again = transfers.record_transaction(
            twin,
            tenant,
            investor["id"],
            type="buy",
            amount_cents=17800,
            status="completed",
            operation_id="ord_x",
            description="Buy 1 AAPL",
        )
    assert again["id"] == txn["id"]
    (listed,) = inproc.client.get(f"/investors/{investor['id']}/transactions").json()["data"]
    assert listed["type"] == "buy" and listed["status"] == "completed" and listed["amount"] == "178.00"
    assert listed["description"] == "Buy 1 AAPL" and listed["completed_at"].endswith("Z")


def test_deposit_and_withdraw_over_real_sockets(client):
    """The whole money path against a real server whose background loop runs the state machines."""

    def poll(path, field, want):
        deadline = time.monotonic() + 5
        while True:
            body = client.get(path).json()
            if body[field] == want or time.monotonic() > deadline:
                return body
            time.sleep(0.02)

    investor = client.post("/investors", json=investor_profile()).json()
    assert poll(f"/investors/{investor['id']}", "status", "active")["status"] == "active"
    source = client.post(f"/investors/{investor['id']}/funding-sources/connect", json=plaid_bank()).json()["data"][0]
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    body = {"amount": "500.00", "currency": "USD", "method": "ach", "funding_source_id": source["id"]}
    r = client.post(f"/investors/{investor['id']}/deposits", json=body, headers=headers)
    assert r.status_code == 201 and r.json()["status"] == "pending"
    dep = poll(f"/investors/{investor['id']}/deposits/{r.json()['id']}", "status", "completed")
    assert dep["status"] == "completed"
    replay = client.post(f"/investors/{investor['id']}/deposits", json=body, headers=headers)
    assert replay.headers["idempotent-replayed"] == "true" and replay.json()["id"] == dep["id"]
    r = withdraw(client, investor["id"], "200.00", source["id"])
    assert r.status_code == 201
    wd = poll(f"/investors/{investor['id']}/withdrawals/{r.json()['id']}", "status", "completed")
    assert wd["status"] == "completed"
    w = wallet(client, investor["id"])
    assert (w["balance"], w["available_balance"], w["reserved_balance"]) == ("300.00", "300.00", "0.00")
    ledger = client.get(client.base_url.join("/_sandbox/ledger"), params={"investor_id": investor["id"]}).json()
    assert [e["amount_cents"] for e in ledger["data"]] == [50000, -20000]
