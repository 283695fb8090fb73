from __future__ import annotations

import re

from bluum_readiness.testing import investor_profile
from tests.twin.money_helpers import (
    connect_manual,
    connect_plaid,
    deposit,
    error,
    events,
    funded,
    key,
    ledger,
    sandbox,
    wallet,
    withdraw,
)

WD_RE = re.compile(r"^wd_[0-9a-hjkmnp-tv-z]{26}$")
UUID = "6f1c2a52-3f5e-4f3e-9d2b-0c8a1e2b3c4d"


def test_withdrawal_holds_then_completes_on_the_clock(make_inproc):
    t = make_inproc(ach_processing_delay_s=1.0, ach_completion_delay_s=2.0)
    investor = t.new_investor()
    source = connect_plaid(t.client, investor["id"])
    dep = deposit(t.client, investor["id"], "100.00", funding_source_id=source["id"]).json()
    t.advance(3)
    assert t.client.get(f"/investors/{investor['id']}/deposits/{dep['id']}").json()["status"] == "completed"

    r = withdraw(t.client, investor["id"], "30.00", source["id"], description="rent")
    assert r.status_code == 201
    wd = r.json()
    assert WD_RE.match(wd["id"]) and wd["object"] == "withdrawal" and wd["status"] == "pending"
    assert wd["amount"] == "30.00" and wd["currency"] == "USD" and wd["method"] == "ach"
    assert wd["funding_source_id"] == source["id"] and wd["description"] == "rent"
    assert wd["wallet_id"].startswith("wlt_") and wd["initiated_at"].endswith("Z") and wd["completed_at"] is None
    assert "_hold_cents" not in wd
    w = wallet(t.client, investor["id"])
    assert (w["balance"], w["available_balance"], w["reserved_balance"]) == ("100.00", "70.00", "30.00")
    assert w["cash_withdrawable"] == w["buying_power"] == "70.00"
    investor_view = t.client.get(f"/investors/{investor['id']}").json()
    assert investor_view["balance"] == "100.00" and investor_view["cash_withdrawable"] == "70.00"

    url = f"/investors/{investor['id']}/withdrawals/{wd['id']}"
    t.advance(1)
    assert t.client.get(url).json()["status"] == "processing"
    assert wallet(t.client, investor["id"])["reserved_balance"] == "30.00"
    t.advance(2)
    done = t.client.get(url).json()
    assert done["status"] == "completed" and done["completed_at"].endswith("Z")
    w = wallet(t.client, investor["id"])
    assert (w["balance"], w["available_balance"], w["reserved_balance"]) == ("70.00", "70.00", "0.00")
    assert [(e["kind"], e["amount_cents"]) for e in ledger(t.client, operation_id=wd["id"])] == [("withdrawal", -3000)]
    assert [e["data"]["id"] for e in events(t, "transfer.withdrawal.initiated")] == [wd["id"]]
    assert [e["data"]["status"] for e in events(t, "transfer.withdrawal.completed")] == ["completed"]


def test_insufficient_funds_counts_holds(inproc):
    investor, source = funded(inproc, "100.00")
    r = withdraw(inproc.client, investor["id"], "100.01", source["id"])
    assert r.status_code == 422
    err = error(r)
    assert err["code"] == "BLUM-422-001" and err["type"] == "invalid_request_error" and err["param"] == "amount"
    assert "100.00" in err["message"]
    first = withdraw(inproc.client, investor["id"], "60.00", source["id"])
    assert first.status_code == 201
    r = withdraw(inproc.client, investor["id"], "50.00", source["id"])
    assert r.status_code == 422 and "40.00" in error(r)["message"]
    assert withdraw(inproc.client, investor["id"], "40.00", source["id"]).status_code == 201
    w = wallet(inproc.client, investor["id"])
    assert (w["balance"], w["available_balance"], w["reserved_balance"]) == ("100.00", "0.00", "100.00")
    inproc.advance()
    w = wallet(inproc.client, investor["id"])
    assert (w["balance"], w["available_balance"], w["reserved_balance"]) == ("0.00", "0.00", "0.00")
    assert sum(e["amount_cents"] for e in ledger(inproc.client, investor_id=investor["id"])) == 0


def test_cancel_releases_the_hold_only_while_pending(make_inproc):
    t = make_inproc(ach_processing_delay_s=1.0, ach_completion_delay_s=1.0)
    investor = t.new_investor()
    source = connect_plaid(t.client, investor["id"])
    deposit(t.client, investor["id"], "100.00", funding_source_id=source["id"])
    t.advance(2)
    base = f"/investors/{investor['id']}/withdrawals"
    wd = withdraw(t.client, investor["id"], "25.00", source["id"]).json()
    r = t.client.post(f"{base}/{wd['id']}/cancel")
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert wallet(t.client, investor["id"])["available_balance"] == "100.00"
    t.advance(5)
    assert t.client.get(f"{base}/{wd['id']}").json()["status"] == "cancelled"
    assert ledger(t.client, operation_id=wd["id"]) == []
    r = t.client.post(f"{base}/{wd['id']}/cancel")
    assert r.status_code == 409 and error(r)["code"] == "BLUM-409-003"

    busy = withdraw(t.client, investor["id"], "25.00", source["id"]).json()
    t.advance(1)
    r = t.client.post(f"{base}/{busy['id']}/cancel")
    assert r.status_code == 409 and error(r)["code"] == "BLUM-409-003"
    assert wallet(t.client, investor["id"])["reserved_balance"] == "25.00"


def test_sandbox_fail_releases_and_complete_moves_money_once(make_inproc):
    t = make_inproc(ach_processing_delay_s=60.0)
    investor = t.new_investor()
    source = connect_manual(t.client, investor["id"])
    dep = deposit(t.client, investor["id"], "50.00", method="wire").json()
    assert sandbox(t.client, f"/deposits/{dep['id']}/complete").status_code == 200

    failing = withdraw(t.client, investor["id"], "20.00", source["id"], method="wire").json()
    assert wallet(t.client, investor["id"])["reserved_balance"] == "20.00"
    r = sandbox(t.client, f"/withdrawals/{failing['id']}/fail", json={"reason": "account_closed"})
    assert r.status_code == 200 and r.json()["status"] == "failed" and r.json()["failure_reason"] == "account_closed"
    assert wallet(t.client, investor["id"])["available_balance"] == "50.00"
    assert [e["data"]["id"] for e in events(t, "transfer.withdrawal.failed")] == [failing["id"]]
    r = sandbox(t.client, f"/withdrawals/{failing['id']}/complete")
    assert r.status_code == 409 and error(r)["code"] == "BLUM-409-003"

    ok = withdraw(t.client, investor["id"], "20.00", source["id"], method="manual_bank_transfer").json()
    r = sandbox(t.client, f"/withdrawals/{ok['id']}/complete")
    assert r.status_code == 200 and r.json()["status"] == "completed"
    r = sandbox(t.client, f"/withdrawals/{ok['id']}/complete")
    assert r.status_code == 409 and error(r)["code"] == "BLUM-409-003"
    t.advance(600)
    assert [e["amount_cents"] for e in ledger(t.client, operation_id=ok["id"])] == [-2000]
    w = wallet(t.client, investor["id"])
    assert (w["balance"], w["available_balance"], w["reserved_balance"]) == ("30.00", "30.00", "0.00")


def test_validation_and_state_errors(inproc, make_inproc):
    investor, source = funded(inproc)
    other = inproc.new_investor()
    foreign = connect_plaid(inproc.client, other["id"])
    url = f"/investors/{investor['id']}/withdrawals"
    cases = [
        ({"amount": "-5"}, 400, "BLUM-400-005", "amount"),
        ({"currency": "GBP"}, 400, "BLUM-400-004", "currency"),
        ({"method": "card"}, 400, "BLUM-400-004", "method"),
        ({"funding_source_id": None}, 400, "BLUM-400-002", "funding_source_id"),
        ({"funding_source_id": UUID}, 400, "BLUM-400-003", "funding_source_id"),
        ({"funding_source_id": foreign["id"]}, 404, "BLUM-404-001", "funding_source_id"),
    ]
    for override, status, code, param in cases:
        body = {"amount": "10.00", "method": "ach", "funding_source_id": source["id"], **override}
        r = inproc.client.post(url, json=body, headers=key())
        assert r.status_code == status, (override, r.text)
        assert (error(r)["code"], error(r)["param"]) == (code, param), (override, r.text)
    r = inproc.client.post(url, json={"amount": "10.00", "method": "wire"}, headers=key())
    assert error(r)["code"] == "BLUM-400-002" and error(r)["param"] == "funding_source_id"
    r = inproc.client.post(url, json={"amount": "10.00", "method": "ach", "funding_source_id": source["id"]})
    assert r.status_code == 400 and error(r)["code"] == "BLUM-400-002" and error(r)["param"] == "Idempotency-Key"
    inproc.client.delete(f"/investors/{investor['id']}/funding-sources/{source['id']}")
    r = withdraw(inproc.client, investor["id"], "10.00", source["id"])
    assert r.status_code == 409 and error(r)["code"] == "BLUM-409-003"

    onboarding = inproc.client.post("/investors", json=investor_profile()).json()
    pending_source = connect_plaid(inproc.client, onboarding["id"])
    r = withdraw(inproc.client, onboarding["id"], "10.00", pending_source["id"])
    assert r.status_code == 403 and error(r)["code"] == "BLUM-403-002"

    lenient = make_inproc(lenient_idempotency=True)
    rich, rich_source = funded(lenient)
    r = lenient.client.post(
        f"/investors/{rich['id']}/withdrawals",
        json={"amount": "10.00", "method": "ach", "funding_source_id": rich_source["id"]},
    )
    assert r.status_code == 201


def test_idempotent_withdrawal_is_held_once(inproc):
    investor, source = funded(inproc)
    url = f"/investors/{investor['id']}/withdrawals"
    body = {"amount": "40.00", "method": "ach", "funding_source_id": source["id"]}
    headers = key()
    first = inproc.client.post(url, json=body, headers=headers)
    again = inproc.client.post(url, json=body, headers=headers)
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert wallet(inproc.client, investor["id"])["reserved_balance"] == "40.00"
    r = inproc.client.post(url, json={**body, "amount": "41.00"}, headers=headers)
    assert r.status_code == 409 and error(r)["code"] == "BLUM-409-002"


def test_list_and_get(inproc):
    investor, source = funded(inproc)
    base = f"/investors/{investor['id']}/withdrawals"
    a = withdraw(inproc.client, investor["id"], "10.00", source["id"]).json()
    b = withdraw(inproc.client, investor["id"], "10.00", source["id"], method="wire").json()
    inproc.client.post(f"{base}/{a['id']}/cancel")
    listed = inproc.client.get(base).json()
    assert listed["object"] == "list" and [w["id"] for w in listed["data"]] == [a["id"], b["id"]]
    assert [w["id"] for w in inproc.client.get(base, params={"status": "cancelled"}).json()["data"]] == [a["id"]]
    assert [w["id"] for w in inproc.client.get(base, params={"method": "wire"}).json()["data"]] == [b["id"]]
    r = inproc.client.get(base, params={"date_from": "2026-03-01", "date_to": "2026-02-01"})
    assert r.status_code == 400 and error(r)["code"] == "BLUM-400-007"
    assert inproc.client.get(f"{base}/{b['id']}").json()["id"] == b["id"]
    r = inproc.client.get(f"{base}/wd_01j9x8m2k7qpzwv3t5r6y8n0ab")
    assert r.status_code == 404 and error(r)["code"] == "BLUM-404-001"
    r = inproc.client.get(f"{base}/{UUID}")
    assert r.status_code == 400 and error(r)["code"] == "BLUM-400-003"
