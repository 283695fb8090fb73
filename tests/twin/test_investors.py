from __future__ import annotations

import re

from bluum_readiness.testing import investor_profile

ID_RE = re.compile(r"^inv_[0-9a-hjkmnp-tv-z]{26}$")


def test_create_investor_starts_onboarding_then_becomes_active(inproc):
    r = inproc.client.post("/investors", json=investor_profile())
    assert r.status_code == 201
    body = r.json()
    assert ID_RE.match(body["id"])
    assert body["object"] == "investor" and body["livemode"] is False and body["metadata"] == {}
    assert body["status"] == "onboarding"
    assert "tax_id" not in body and "_tax_id" not in body
    assert r.headers["x-request-id"].startswith("req_")
    inproc.advance()
    assert inproc.client.get(f"/investors/{body['id']}").json()["status"] == "active"


def test_declined_and_awaiting_documents_test_values(inproc):
    declined = inproc.new_investor(tax_id="999-99-9999")
    assert declined["status"] == "declined"
    waiting = inproc.new_investor(last_name="Documents")
    assert waiting["status"] == "awaiting_documents"


def test_duplicate_email_is_409_001(inproc):
    profile = investor_profile()
    assert inproc.client.post("/investors", json=profile).status_code == 201
    r = inproc.client.post("/investors", json={**profile, "email": profile["email"].upper()})
    assert r.status_code == 409
    assert r.json()["error"] == {
        "type": "conflict_error",
        "code": "BLUM-409-001",
        "message": f"An investor with email {profile['email'].upper()} already exists.",
        "param": "email",
    }


def test_validation_errors_name_the_field(inproc):
    cases = [
        ({"email": None}, "BLUM-400-003", "email"),
        ({"phone": "555-1234"}, "BLUM-400-003", "phone"),
        ({"account_type": "ira"}, "BLUM-400-004", "account_type"),
        ({"date_of_birth": "10/12/1990"}, "BLUM-400-003", "date_of_birth"),
        ({"signed_agreements": []}, "BLUM-400-001", "signed_agreements"),
    ]
    for override, code, param in cases:
        r = inproc.client.post("/investors", json=investor_profile(**override))
        assert r.status_code == 400, (override, r.text)
        assert r.json()["error"]["code"] == code, (override, r.text)
        assert r.json()["error"]["param"] == param
    profile = investor_profile()
    del profile["tax_id"]
    r = inproc.client.post("/investors", json=profile)
    assert r.json()["error"]["code"] == "BLUM-400-002" and r.json()["error"]["param"] == "tax_id"


def test_malformed_json_is_400_001(inproc):
    r = inproc.client.post("/investors", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "BLUM-400-001"


def test_raw_uuid_is_400_003_and_unknown_id_404_001(inproc):
    r = inproc.client.get("/investors/6f1c2a52-3f5e-4f3e-9d2b-0c8a1e2b3c4d")
    assert r.status_code == 400 and r.json()["error"]["code"] == "BLUM-400-003"
    r = inproc.client.get("/investors/inv_01j9x8m2k7qpzwv3t5r6y8n0ab")
    assert r.status_code == 404 and r.json()["error"]["code"] == "BLUM-404-001"


def test_list_paging(inproc):
    ids = [inproc.client.post("/investors", json=investor_profile()).json()["id"] for _ in range(3)]
    page = inproc.client.get("/investors", params={"limit": 2}).json()
    assert page["object"] == "list" and page["url"] == "/v1/investors" and page["has_more"] is True
    assert [i["id"] for i in page["data"]] == ids[:2]
    rest = inproc.client.get("/investors", params={"limit": 2, "offset": 2}).json()
    assert [i["id"] for i in rest["data"]] == ids[2:] and rest["has_more"] is False
    assert inproc.client.get("/investors", params={"limit": 201}).json()["error"]["code"] == "BLUM-400-003"


def test_over_real_sockets(client):
    r = client.post("/investors", json=investor_profile())
    assert r.status_code == 201
    assert client.get(f"/investors/{r.json()['id']}").status_code == 200
