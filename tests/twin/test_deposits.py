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
)

DEP_RE = re.compile(r"^dep_[0-9a-hjkmnp-tv-z]{26}$")
UUID = "6f1c2a52-3f5e-4f3e-9d2b-0c8a1e2b3c4d"


def test_ach_deposit_goes_pending_processing_completed_on_the_clock(make_inproc):
    t = make_inproc(ach_processing_delay_s=1.0, ach_completion_delay_s=2.0)
    investor = t.new_investor()
    source = connect_plaid(t.client, investor["id"])
    r = deposit(t.client, investor["id"], "250.50", funding_source_id=source["id"], description="first")
    assert r.status_code == 201
    dep = r.json()
    assert DEP_RE.match(dep["id"]) and dep["object"] == "deposit"
    assert dep["status"] == "pending" and dep["amount"] == "250.50" and dep["currency"] == "USD"
    assert dep["method"] == "ach" and dep["funding_source_id"] == source["id"] and dep["description"] == "first"
    assert dep["investor_id"] == investor["id"] and dep["wallet_id"].startswith("wlt_")
    assert dep["method_details"]["provider_name"] == "alpaca" and dep["method_details"]["alpaca_status"] == "QUEUED"
    assert dep["initiated_at"].endswith("Z") and dep["completed_at"] is None and dep["expires_at"] is None
    url = f"/investors/{investor['id']}/deposits/{dep['id']}"

    t.advance(0.9)
    assert t.client.get(url).json()["status"] == "pending"
    t.advance(0.1)
    assert t.client.get(url).json()["status"] == "processing"
    assert wallet(t.client, investor["id"])["balance"] == "0.00"
    t.advance(2.0)
    done = t.client.get(url).json()
    assert done["status"] == "completed" and done["completed_at"].endswith("Z")
    assert done["method_details"]["alpaca_status"] == "COMPLETE"
    assert wallet(t.client, investor["id"])["balance"] == "250.50"
    entries = ledger(t.client, operation_id=dep["id"])
    assert [(e["kind"], e["amount"]) for e in entries] == [("deposit", "250.50")]
    assert [e["data"]["id"] for e in events(t, "transfer.deposit.initiated")] == [dep["id"]]
    completed = events(t, "transfer.deposit.completed")
    assert len(completed) == 1 and completed[0]["data"]["status"] == "completed"
    t.advance(100)
    assert len(ledger(t.client, operation_id=dep["id"])) == 1


def test_idempotent_replay_and_conflict(inproc):
    investor = inproc.new_investor()
    source = connect_plaid(inproc.client, investor["id"])
    url = f"/investors/{investor['id']}/deposits"
    body = {"amount": "100.00", "currency": "USD", "method": "ach", "funding_source_id": source["id"]}
    headers = key()
    first = inproc.client.post(url, json=body, headers=headers)
    assert first.status_code == 201 and "idempotent-replayed" not in first.headers
    inproc.advance()
    again = inproc.client.post(url, json=body, headers=headers)
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert len(inproc.client.get(url).json()["data"]) == 1
    entries = ledger(inproc.client, operation_id=first.json()["id"])
    assert len(entries) == 1 and entries[0]["amount_cents"] == 10000
    assert len(ledger(inproc.client, investor_id=investor["id"])) == 1
    r = inproc.client.post(url, json={**body, "amount": "200.00"}, headers=headers)
    assert r.status_code == 409
    assert error(r)["code"] == "BLUM-409-002" and error(r)["type"] == "idempotency_error"


def test_idempotency_key_is_required_unless_lenient(inproc, make_inproc):
    investor = inproc.new_investor()
    body = {"amount": "10.00", "method": "manual_bank_transfer"}
    r = inproc.client.post(f"/investors/{investor['id']}/deposits", json=body)
    assert r.status_code == 400
    assert error(r)["code"] == "BLUM-400-002" and error(r)["param"] == "Idempotency-Key"
    assert inproc.client.get(f"/investors/{investor['id']}/deposits").json()["data"] == []

    lenient = make_inproc(lenient_idempotency=True)
    other = lenient.new_investor()
    r = lenient.client.post(f"/investors/{other['id']}/deposits", json=body)
    assert r.status_code == 201 and r.json()["status"] == "pending"


def test_validation_errors(inproc):
    investor = inproc.new_investor()
    other = inproc.new_investor()
    source = connect_plaid(inproc.client, investor["id"])
    foreign = connect_plaid(inproc.client, other["id"])
    cases = [
        ({"amount": "10.001"}, 400, "BLUM-400-005", "amount"),
        ({"amount": "0"}, 400, "BLUM-400-005", "amount"),
        ({"amount": 10}, 400, "BLUM-400-005", "amount"),
        ({"currency": "EUR"}, 400, "BLUM-400-004", "currency"),
        ({"currency": "dollars"}, 400, "BLUM-400-003", "currency"),
        ({"method": "card"}, 400, "BLUM-400-004", "method"),
        ({"funding_source_id": None}, 400, "BLUM-400-002", "funding_source_id"),
        ({"funding_source_id": UUID}, 400, "BLUM-400-003", "funding_source_id"),
        ({"funding_source_id": "fs_01j9x8m2k7qpzwv3t5r6y8n0ab"}, 404, "BLUM-404-001", "funding_source_id"),
        ({"funding_source_id": foreign["id"]}, 404, "BLUM-404-001", "funding_source_id"),
        ({"description": "x" * 501}, 400, "BLUM-400-001", "description"),
    ]
    url = f"/investors/{investor['id']}/deposits"
    for override, status, code, param in cases:
        body = {"amount": "10.00", "method": "ach", "funding_source_id": source["id"], **override}
        r = inproc.client.post(url, json=body, headers=key())
        assert r.status_code == status, (override, r.text)
        assert (error(r)["code"], error(r)["param"]) == (code, param), (override, r.text)
    r = inproc.client.post(url, json={"amount": "1.00", "method": "wire", "x": 1}, headers=key())
    assert r.status_code == 201  # unknown fields are ignored
    r = inproc.client.post(url, json={"amount": "1.00"}, headers=key())
    assert error(r)["code"] == "BLUM-400-002" and error(r)["param"] == "method"
    r = inproc.client.post(f"/investors/{UUID}/deposits", json={"amount": "1.00", "method": "wire"}, headers=key())
    assert r.status_code == 400 and error(r)["code"] == "BLUM-400-003"


def test_investor_must_be_active(inproc):
    r = inproc.client.post("/investors", json=investor_profile())
    onboarding = r.json()
    body = {"amount": "10.00", "method": "wire"}
    r = inproc.client.post(f"/investors/{onboarding['id']}/deposits", json=body, headers=key())
    assert r.status_code == 403 and error(r)["code"] == "BLUM-403-002"
    suspended = inproc.new_investor()
    assert sandbox(inproc.client, f"/investors/{suspended['id']}/kyc", json={"status": "suspended"}).status_code == 200
    r = inproc.client.post(f"/investors/{suspended['id']}/deposits", json=body, headers=key())
    assert r.status_code == 403 and error(r)["code"] == "BLUM-403-004"


def test_manual_bank_transfer_waits_for_control_then_completes_once(inproc):
    investor = inproc.new_investor()
    source = connect_manual(inproc.client, investor["id"])
    r = deposit(inproc.client, investor["id"], "75.00", method="manual_bank_transfer", funding_source_id=source["id"])
    assert r.status_code == 201
    dep = r.json()
    details = dep["method_details"]
    assert re.match(r"^BLUUM-[0-9A-Z]{8}$", details["reference_code"])
    bank = details["bank_details"]
    assert bank["bank_name"] == "Choice Financial Group" and bank["routing_number"] == "091311229"
    assert {"bank_address", "account_name", "account_number", "swift_code", "instructions"} <= set(bank)
    assert details["reference_code"] in bank["instructions"]
    assert dep["expires_at"] == details["expires_at"] == "2026-01-08T00:00:00Z"  # the manual clock starts 2026-01-01
    inproc.advance(3600)
    url = f"/investors/{investor['id']}/deposits/{dep['id']}"
    assert inproc.client.get(url).json()["status"] == "pending"

    r = sandbox(inproc.client, f"/deposits/{dep['id']}/complete")
    assert r.status_code == 200 and r.json()["status"] == "completed" and r.json()["completed_at"]
    assert inproc.client.get(url).json()["status"] == "completed"
    r = sandbox(inproc.client, f"/deposits/{dep['id']}/complete")
    assert r.status_code == 409 and error(r)["code"] == "BLUM-409-003"
    r = sandbox(inproc.client, f"/deposits/{dep['id']}/fail")
    assert r.status_code == 409 and error(r)["code"] == "BLUM-409-003"
    assert [e["amount"] for e in ledger(inproc.client, operation_id=dep["id"])] == ["75.00"]
    inproc.advance(8 * 24 * 3600)  # the expiry job was cancelled with completion
    assert inproc.client.get(url).json()["status"] == "completed"
    assert wallet(inproc.client, investor["id"])["balance"] == "75.00"


def test_manual_deposit_expires(inproc):
    investor = inproc.new_investor()
    r = deposit(inproc.client, investor["id"], "20.00", method="manual_bank_transfer")
    dep = r.json()
    url = f"/investors/{investor['id']}/deposits/{dep['id']}"
    inproc.advance(7 * 24 * 3600 - 1)
    assert inproc.client.get(url).json()["status"] == "pending"
    inproc.advance(1)
    got = inproc.client.get(url).json()
    assert got["status"] == "failed" and got["failure_reason"] == "expired"
    failed = events(inproc, "transfer.deposit.failed")
    assert [e["data"]["failure_reason"] for e in failed] == ["expired"]
    assert ledger(inproc.client, operation_id=dep["id"]) == []
    r = sandbox(inproc.client, f"/deposits/{dep['id']}/complete")
    assert r.status_code == 409 and error(r)["code"] == "BLUM-409-003"


def test_wire_deposit_has_funding_details_and_can_be_failed(inproc):
    investor = inproc.new_investor()
    dep = deposit(inproc.client, investor["id"], "1000.00", method="wire").json()
    assert dep["funding_source_id"] is None and dep["expires_at"] is None
    funding = dep["method_details"]["funding_details"]
    assert funding and {"payment_type", "currency", "account_number", "routing_code", "bank_name"} <= set(funding[0])
    inproc.advance(30 * 24 * 3600)
    url = f"/investors/{investor['id']}/deposits/{dep['id']}"
    assert inproc.client.get(url).json()["status"] == "pending"
    r = sandbox(inproc.client, f"/deposits/{dep['id']}/fail", json={"reason": "returned_by_bank"})
    assert r.status_code == 200 and r.json()["status"] == "failed" and r.json()["failure_reason"] == "returned_by_bank"
    r = sandbox(inproc.client, f"/deposits/{dep['id']}/fail", json={"reason": 5})
    assert r.status_code == 400 and error(r)["param"] == "reason"
    other = deposit(inproc.client, investor["id"], "5.00", method="wire").json()
    r = sandbox(inproc.client, f"/deposits/{other['id']}/fail")
    assert r.json()["failure_reason"] == "failed_by_sandbox_control"
    assert len(events(inproc, "transfer.deposit.failed")) == 2


def test_sandbox_controls_check_ids(inproc):
    r = sandbox(inproc.client, f"/deposits/{UUID}/complete")
    assert r.status_code == 400 and error(r)["code"] == "BLUM-400-003"
    r = sandbox(inproc.client, "/deposits/dep_01j9x8m2k7qpzwv3t5r6y8n0ab/complete")
    assert r.status_code == 404 and error(r)["code"] == "BLUM-404-001"
    r = sandbox(inproc.client, "/withdrawals/wd_01j9x8m2k7qpzwv3t5r6y8n0ab/fail")
    assert r.status_code == 404 and error(r)["code"] == "BLUM-404-001"
    # another tenant cannot complete this tenant's deposit
    investor = inproc.new_investor()
    dep = deposit(inproc.client, investor["id"], "5.00", method="wire").json()
    tenant = inproc.twin.create_tenant("other")
    with inproc.client_for(tenant) as other:
        r = sandbox(other, f"/deposits/{dep['id']}/complete")
        assert r.status_code == 404


def test_cancel_only_while_pending(make_inproc):
    t = make_inproc(ach_processing_delay_s=1.0, ach_completion_delay_s=1.0)
    investor = t.new_investor()
    source = connect_plaid(t.client, investor["id"])
    base = f"/investors/{investor['id']}/deposits"
    dep = deposit(t.client, investor["id"], funding_source_id=source["id"]).json()
    r = t.client.post(f"{base}/{dep['id']}/cancel")
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert r.json()["method_details"]["alpaca_status"] == "CANCELED"
    t.advance(10)
    assert t.client.get(f"{base}/{dep['id']}").json()["status"] == "cancelled"
    assert ledger(t.client, operation_id=dep["id"]) == []
    r = t.client.post(f"{base}/{dep['id']}/cancel")
    assert r.status_code == 409 and error(r)["code"] == "BLUM-409-003"
    assert "only a pending deposit" in error(r)["message"]

    processing = deposit(t.client, investor["id"], funding_source_id=source["id"]).json()
    t.advance(1)
    assert t.client.get(f"{base}/{processing['id']}").json()["status"] == "processing"
    r = t.client.post(f"{base}/{processing['id']}/cancel")
    assert r.status_code == 409 and error(r)["code"] == "BLUM-409-003"
    t.advance(1)
    assert t.client.get(f"{base}/{processing['id']}").json()["status"] == "completed"
    r = sandbox(t.client, f"/deposits/{processing['id']}/complete")
    assert r.status_code == 409
    assert wallet(t.client, investor["id"])["balance"] == "100.00"
    r = t.client.post(f"{base}/dep_01j9x8m2k7qpzwv3t5r6y8n0ab/cancel")
    assert r.status_code == 404 and error(r)["code"] == "BLUM-404-001"


def test_sandbox_complete_skips_processing(make_inproc):
    t = make_inproc(ach_processing_delay_s=5.0, ach_completion_delay_s=5.0)
    investor = t.new_investor()
    source = connect_plaid(t.client, investor["id"])
    dep = deposit(t.client, investor["id"], "12.34", funding_source_id=source["id"]).json()
    r = sandbox(t.client, f"/deposits/{dep['id']}/complete")
    assert r.status_code == 200 and r.json()["status"] == "completed"
    t.advance(20)  # the scheduled jobs were cancelled: no second posting
    assert len(ledger(t.client, operation_id=dep["id"])) == 1
    assert len(events(t, "transfer.deposit.completed")) == 1


def test_list_filters_and_lookup(inproc):
    investor, source = funded(inproc)
    base = f"/investors/{investor['id']}/deposits"
    wire = deposit(inproc.client, investor["id"], "5.00", method="wire").json()
    manual = deposit(inproc.client, investor["id"], "6.00", method="manual_bank_transfer").json()
    listed = inproc.client.get(base).json()
    assert listed["object"] == "list" and listed["url"] == f"/v1{base}" and len(listed["data"]) == 3

    def ids(**params):
        r = inproc.client.get(base, params=params)
        assert r.status_code == 200, r.text
        return [d["id"] for d in r.json()["data"]]

    assert ids(method="wire") == [wire["id"]]
    assert ids(status="pending") == [wire["id"], manual["id"]]
    assert len(ids(status="completed")) == 1
    assert len(ids(date_from="2026-01-01", date_to="2026-01-01")) == 3
    assert ids(date_from="2026-01-02") == []
    assert ids(date_to="2025-12-31") == []
    assert ids(limit="1", offset="1") == [wire["id"]]
    for params, code, param in [
        ({"date_from": "2026-01-02", "date_to": "2026-01-01"}, "BLUM-400-007", "date_from"),
        ({"date_from": "01/01/2026"}, "BLUM-400-003", "date_from"),
        ({"date_to": "2026-02-30"}, "BLUM-400-003", "date_to"),
        ({"method": "card"}, "BLUM-400-004", "method"),
        ({"status": "done"}, "BLUM-400-004", "status"),
    ]:
        r = inproc.client.get(base, params=params)
        assert r.status_code == 400 and (error(r)["code"], error(r)["param"]) == (code, param), params

    assert inproc.client.get(f"{base}/{wire['id']}").json() == wire
    r = inproc.client.get(f"{base}/{UUID}")
    assert r.status_code == 400 and error(r)["code"] == "BLUM-400-003"
    other = inproc.new_investor()
    r = inproc.client.get(f"/investors/{other['id']}/deposits/{wire['id']}")
    assert r.status_code == 404 and error(r)["code"] == "BLUM-404-001"
