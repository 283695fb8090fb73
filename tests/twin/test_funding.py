from __future__ import annotations

import re

from bluum_readiness.testing import investor_profile, manual_bank, plaid_bank
from tests.twin.money_helpers import connect_manual, connect_plaid, deposit, error

FS_RE = re.compile(r"^fs_[0-9a-hjkmnp-tv-z]{26}$")
UUID = "6f1c2a52-3f5e-4f3e-9d2b-0c8a1e2b3c4d"


def test_link_token(inproc):
    investor = inproc.new_investor()
    r = inproc.client.post(f"/investors/{investor['id']}/funding-sources/plaid/link-token", json={})
    assert r.status_code == 200
    body = r.json()
    assert body["link_token"].startswith("link-sandbox-")
    assert body["hosted_link_url"].startswith("https://") and body["link_token"] in body["hosted_link_url"]


def test_plaid_connect_links_one_first_platypus_checking_account(inproc):
    investor = inproc.new_investor()
    r = inproc.client.post(f"/investors/{investor['id']}/funding-sources/connect", json=plaid_bank())
    assert r.status_code == 201
    body = r.json()
    assert body["object"] == "list" and body["has_more"] is False and len(body["data"]) == 1
    source = body["data"][0]
    assert FS_RE.match(source["id"])
    assert source["object"] == "funding_source" and source["livemode"] is False and source["metadata"] == {}
    assert source["investor_id"] == investor["id"]
    assert source["type"] == "plaid" and source["status"] == "active"
    assert source["bank_name"] == "First Platypus Bank" and source["mask"] == "0000"
    assert source["account_number"] == "****0000" and source["account_subtype"] == "checking"
    assert not any(k.startswith("_") for k in source)


def test_plaid_token_must_be_sandbox_and_single_use(inproc):
    investor = inproc.new_investor()
    url = f"/investors/{investor['id']}/funding-sources/connect"
    r = inproc.client.post(url, json={"type": "plaid", "public_token": "public-production-abc"})
    assert r.status_code == 400
    assert error(r)["code"] == "BLUM-400-003" and error(r)["param"] == "public_token"
    body = plaid_bank()
    assert inproc.client.post(url, json=body).status_code == 201
    r = inproc.client.post(url, json=body)
    assert r.status_code == 400
    assert error(r)["code"] == "BLUM-400-001" and error(r)["param"] == "public_token"
    assert "single-use" in error(r)["message"]
    # even by another investor of the same tenant
    other = inproc.new_investor()
    r = inproc.client.post(f"/investors/{other['id']}/funding-sources/connect", json=body)
    assert error(r)["code"] == "BLUM-400-001"
    r = inproc.client.post(url, json={"type": "plaid"})
    assert error(r)["code"] == "BLUM-400-002" and error(r)["param"] == "public_token"


def test_manual_connect_masks_the_account_number(inproc):
    investor = inproc.new_investor()
    source = connect_manual(inproc.client, investor["id"], metadata={"ref": "a1"})
    assert FS_RE.match(source["id"])
    assert source["type"] == "manual" and source["status"] == "active"
    assert source["bank_name"] == "Choice Financial Group"
    assert source["account_number"] == "****6789" and source["mask"] == "6789"
    assert source["routing_number"] == "091311229" and source["account_subtype"] == "checking"
    assert source["account_holder_name"] == "Ada Lovelace"
    assert source["currency"] == "USD" and source["country"] == "US" and source["metadata"] == {"ref": "a1"}
    assert "000123456789" not in str(source)


def test_connect_validation_errors(inproc):
    investor = inproc.new_investor()
    url = f"/investors/{investor['id']}/funding-sources/connect"
    cases = [
        (manual_bank(account_number="123"), "BLUM-400-003", "account_number"),
        (manual_bank(routing_number="12345"), "BLUM-400-003", "routing_number"),
        (manual_bank(bank_account_type="BROKERAGE"), "BLUM-400-004", "bank_account_type"),
        (manual_bank(country="USA"), "BLUM-400-003", "country"),
        ({k: v for k, v in manual_bank().items() if k != "bank_name"}, "BLUM-400-002", "bank_name"),
        ({"bank_name": "X"}, "BLUM-400-002", "type"),
        ({"type": "card"}, "BLUM-400-004", "type"),
    ]
    for body, code, param in cases:
        r = inproc.client.post(url, json=body)
        assert r.status_code == 400, (body, r.text)
        assert (error(r)["code"], error(r)["param"]) == (code, param), (body, r.text)


def test_list_filter_get_and_soft_delete(inproc):
    investor = inproc.new_investor()
    base = f"/investors/{investor['id']}/funding-sources"
    plaid = connect_plaid(inproc.client, investor["id"])
    manual = connect_manual(inproc.client, investor["id"])
    listed = inproc.client.get(base).json()
    assert listed["object"] == "list" and listed["url"] == f"/v1{base}"
    assert [s["id"] for s in listed["data"]] == [plaid["id"], manual["id"]]
    assert [s["id"] for s in inproc.client.get(base, params={"type": "manual"}).json()["data"]] == [manual["id"]]
    assert [s["id"] for s in inproc.client.get(base, params={"type": "plaid"}).json()["data"]] == [plaid["id"]]
    assert len(inproc.client.get(base, params={"type": "all"}).json()["data"]) == 2
    r = inproc.client.get(base, params={"type": "card"})
    assert r.status_code == 400 and error(r)["code"] == "BLUM-400-004"

    assert inproc.client.get(f"{base}/{plaid['id']}").json() == plaid
    r = inproc.client.delete(f"{base}/{plaid['id']}")
    assert r.status_code == 200 and r.json()["status"] == "disconnected" and r.json()["id"] == plaid["id"]
    assert inproc.client.get(f"{base}/{plaid['id']}").json()["status"] == "disconnected"
    assert len(inproc.client.get(base).json()["data"]) == 2  # soft delete: still listed
    assert inproc.client.delete(f"{base}/{plaid['id']}").status_code == 200  # idempotent

    # a disconnected source cannot fund a deposit
    r = deposit(inproc.client, investor["id"], funding_source_id=plaid["id"])
    assert r.status_code == 409 and error(r)["code"] == "BLUM-409-003" and error(r)["param"] == "funding_source_id"


def test_ids_are_checked_and_sources_are_per_investor(inproc):
    investor = inproc.new_investor()
    other = inproc.new_investor()
    source = connect_plaid(inproc.client, investor["id"])
    base = f"/investors/{investor['id']}/funding-sources"
    r = inproc.client.get(f"{base}/{UUID}")
    assert r.status_code == 400 and error(r)["code"] == "BLUM-400-003" and error(r)["param"] == "funding_source_id"
    r = inproc.client.get(f"{base}/fs_01j9x8m2k7qpzwv3t5r6y8n0ab")
    assert r.status_code == 404 and error(r)["code"] == "BLUM-404-001"
    r = inproc.client.get(f"/investors/{other['id']}/funding-sources/{source['id']}")
    assert r.status_code == 404 and error(r)["code"] == "BLUM-404-001"
    r = inproc.client.delete(f"/investors/{other['id']}/funding-sources/{source['id']}")
    assert r.status_code == 404
    r = inproc.client.get("/investors/inv_01j9x8m2k7qpzwv3t5r6y8n0ab/funding-sources")
    assert r.status_code == 404 and error(r)["code"] == "BLUM-404-001"


def test_onboarding_investor_may_connect_closed_may_not(inproc):
    r = inproc.client.post("/investors", json=investor_profile())
    onboarding = r.json()
    assert onboarding["status"] == "onboarding"
    connect_plaid(inproc.client, onboarding["id"])

    investor = inproc.new_investor()
    source = connect_manual(inproc.client, investor["id"])
    assert inproc.client.post(f"/investors/{investor['id']}/close", json={}).status_code == 200
    for r in (
        inproc.client.post(f"/investors/{investor['id']}/funding-sources/connect", json=plaid_bank()),
        inproc.client.post(f"/investors/{investor['id']}/funding-sources/plaid/link-token", json={}),
        inproc.client.delete(f"/investors/{investor['id']}/funding-sources/{source['id']}"),
    ):
        assert r.status_code == 403 and error(r)["code"] == "BLUM-403-004", r.text
    assert inproc.client.get(f"/investors/{investor['id']}/funding-sources").status_code == 200
