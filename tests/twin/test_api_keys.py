"""Investor-scoped API keys (§5.12): create (secret once), list, revoke, and what such a key may do."""

from __future__ import annotations

import re

from tests.twin._webhook_helpers import key_client, sandbox

APK_RE = re.compile(r"^apk_[0-9a-hjkmnp-tv-z]{26}$")


def test_create_list_and_use_an_investor_key(inproc):
    investor = inproc.new_investor()
    r = inproc.client.post(f"/investors/{investor['id']}/api-keys", json={"name": "mobile app"})
    assert r.status_code == 201, r.text
    key = r.json()
    assert APK_RE.match(key["id"]) and key["object"] == "api_key" and key["livemode"] is False
    assert key["account_id"] == investor["id"] and key["name"] == "mobile app" and key["environment"] == "TEST"
    assert key["status"] == "active" and key["expires_at"] is None and key["metadata"] == {}
    assert isinstance(key["created"], int) and key["public_key"] and len(key["secret_key"]) == 64

    listed = inproc.client.get(f"/investors/{investor['id']}/api-keys").json()
    assert listed["object"] == "list" and [k["id"] for k in listed["data"]] == [key["id"]]
    assert "secret_key" not in listed["data"][0]

    with key_client(inproc, key["public_key"], key["secret_key"]) as c:
        assert c.get(f"/investors/{investor['id']}").status_code == 200
        own_keys = c.get(f"/investors/{investor['id']}/api-keys")
        assert own_keys.status_code == 200 and "secret_key" not in own_keys.json()["data"][0]


def test_investor_key_permissions(inproc):
    mine = inproc.new_investor()
    other = inproc.new_investor()
    key = inproc.client.post(f"/investors/{mine['id']}/api-keys", json={}).json()
    with key_client(inproc, key["public_key"], key["secret_key"]) as c:
        refused = [
            c.get(f"/investors/{other['id']}"),
            c.get(f"/investors/{other['id']}/api-keys"),
            c.post(f"/investors/{mine['id']}/api-keys", json={}),
            c.post(f"/investors/{mine['id']}/api-keys/{key['id']}/revoke"),
            c.get("/webhooks"),
            sandbox(c, "GET", "/events"),
            sandbox(c, "POST", "/api-keys", json={}),
        ]
        for r in refused:
            assert r.status_code == 403 and r.json()["error"]["code"] == "BLUM-403-001", r.request.url


def test_revoke_then_401_003(inproc):
    investor = inproc.new_investor()
    key = inproc.client.post(f"/investors/{investor['id']}/api-keys", json={}).json()
    r = inproc.client.post(f"/investors/{investor['id']}/api-keys/{key['id']}/revoke")
    assert r.status_code == 200 and r.json()["status"] == "revoked" and r.json()["revoked_at"]
    assert "secret_key" not in r.json()
    again = inproc.client.post(f"/investors/{investor['id']}/api-keys/{key['id']}/revoke")
    assert again.status_code == 200 and again.json()["status"] == "revoked"
    with key_client(inproc, key["public_key"], key["secret_key"]) as c:
        r = c.get(f"/investors/{investor['id']}")
        assert r.status_code == 401 and r.json()["error"]["code"] == "BLUM-401-003"
    listed = inproc.client.get(f"/investors/{investor['id']}/api-keys").json()["data"]
    assert [k["status"] for k in listed] == ["revoked"]


def test_create_validation_and_errors(inproc):
    investor = inproc.new_investor()
    path = f"/investors/{investor['id']}/api-keys"
    r = inproc.client.post(path, json={"environment": "PRODUCTION"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "BLUM-403-003"
    r = inproc.client.post(path, json={"environment": "STAGING"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "BLUM-400-004"
    r = inproc.client.post(path, json={"name": "x" * 121})
    assert r.status_code == 400 and r.json()["error"]["param"] == "name"
    assert inproc.client.post(path, json={"name": "x" * 120}).status_code == 201
    r = inproc.client.post("/investors/inv_01j9x8m2k7qpzwv3t5r6y8n0ab/api-keys", json={})
    assert r.status_code == 404
    r = inproc.client.post(f"{path}/apk_01j9x8m2k7qpzwv3t5r6y8n0ab/revoke")
    assert r.status_code == 404 and r.json()["error"]["code"] == "BLUM-404-001"
    other = inproc.new_investor()
    foreign = inproc.client.post(f"/investors/{other['id']}/api-keys", json={}).json()
    assert inproc.client.post(f"{path}/{foreign['id']}/revoke").status_code == 404
