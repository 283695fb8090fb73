"""Tenant key pairs through the sandbox controls, and every BLUM-401 code."""

from __future__ import annotations

import base64

from tests.twin._webhook_helpers import key_client, sandbox


def code_of(r) -> str:
    assert r.status_code == 401, r.text
    assert r.headers["www-authenticate"].startswith("Basic")
    return str(r.json()["error"]["code"])


def test_missing_and_malformed_headers(inproc):
    with inproc.client_for() as anonymous:
        assert code_of(anonymous.get("/investors")) == "BLUM-401-001"
        for header in ("Bearer abc", "Basic", "Basic !!!not-base64", "Basic " + base64.b64encode(b"nocolon").decode()):
            assert code_of(anonymous.get("/investors", headers={"Authorization": header})) == "BLUM-401-002", header


def test_wrong_secret_is_401_003(inproc):
    with key_client(inproc, inproc.pair.key, "0" * 64) as c:
        assert code_of(c.get("/investors")) == "BLUM-401-003"
    with key_client(inproc, "test_bluum_unknown", inproc.pair.secret) as c:
        assert code_of(c.get("/investors")) == "BLUM-401-003"


def test_create_list_and_revoke_a_tenant_key(inproc):
    r = sandbox(inproc.client, "POST", "/api-keys", json={"name": "rotation"})
    assert r.status_code == 201, r.text
    new = r.json()
    assert new["object"] == "tenant_api_key" and new["id"].startswith("apk_") and new["status"] == "active"
    assert new["key"].startswith("test_bluum_") and len(new["secret"]) == 64 and isinstance(new["created"], int)
    listed = sandbox(inproc.client, "GET", "/api-keys").json()["data"]
    assert [k["key"] for k in listed] == [inproc.pair.key, new["key"]]
    assert all("secret" not in k for k in listed)

    with key_client(inproc, new["key"], new["secret"]) as c:
        assert c.get("/investors").status_code == 200
        revoked = sandbox(inproc.client, "POST", f"/api-keys/{new['id']}/revoke")
        assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
        assert code_of(c.get("/investors")) == "BLUM-401-003"
    reactivate = sandbox(inproc.client, "POST", f"/api-keys/{new['id']}/activate")
    assert reactivate.status_code == 409 and reactivate.json()["error"]["code"] == "BLUM-409-003"
    assert sandbox(inproc.client, "POST", "/api-keys/apk_01j9x8m2k7qpzwv3t5r6y8n0ab/revoke").status_code == 404


def test_deactivated_key_is_401_004_until_activated(inproc):
    new = sandbox(inproc.client, "POST", "/api-keys", json={}).json()
    with key_client(inproc, new["key"], new["secret"]) as c:
        r = sandbox(inproc.client, "POST", f"/api-keys/{new['key']}/deactivate")  # by public key works too
        assert r.status_code == 200 and r.json()["status"] == "inactive"
        assert code_of(c.get("/investors")) == "BLUM-401-004"
        assert sandbox(inproc.client, "POST", f"/api-keys/{new['id']}/activate").json()["status"] == "active"
        assert c.get("/investors").status_code == 200


def test_expired_key_is_401_005(inproc):
    now = inproc.clock.now()
    past = sandbox(inproc.client, "POST", "/api-keys", json={"expires_at": "2020-01-01T00:00:00Z"}).json()
    assert past["status"] == "expired" and past["expires_at"] == "2020-01-01T00:00:00Z"
    soon = sandbox(inproc.client, "POST", "/api-keys", json={"expires_at": now + 60}).json()
    assert soon["status"] == "active"
    with key_client(inproc, past["key"], past["secret"]) as c:
        assert code_of(c.get("/investors")) == "BLUM-401-005"
    with key_client(inproc, soon["key"], soon["secret"]) as c:
        assert c.get("/investors").status_code == 200
        inproc.clock.advance(60)
        assert code_of(c.get("/investors")) == "BLUM-401-005"
    bad = sandbox(inproc.client, "POST", "/api-keys", json={"expires_at": "next week"})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "expires_at"


def test_revoking_the_calling_key_is_allowed(inproc):
    spare = sandbox(inproc.client, "POST", "/api-keys", json={}).json()
    me = next(k for k in sandbox(inproc.client, "GET", "/api-keys").json()["data"] if k["key"] == inproc.pair.key)
    r = sandbox(inproc.client, "POST", f"/api-keys/{me['id']}/revoke")
    assert r.status_code == 200 and r.json()["status"] == "revoked"
    assert code_of(inproc.client.get("/investors")) == "BLUM-401-003"
    with key_client(inproc, spare["key"], spare["secret"]) as c:
        statuses = {k["key"]: k["status"] for k in sandbox(c, "GET", "/api-keys").json()["data"]}
        assert statuses == {inproc.pair.key: "revoked", spare["key"]: "active"}


def test_keys_are_per_tenant(inproc):
    other = sandbox(inproc.client, "POST", "/tenants", json={"name": "other"}).json()
    mine = sandbox(inproc.client, "GET", "/api-keys").json()["data"][0]
    with key_client(inproc, other["key"], other["secret"]) as c:
        assert [k["key"] for k in sandbox(c, "GET", "/api-keys").json()["data"]] == [other["key"]]
        assert sandbox(c, "POST", f"/api-keys/{mine['id']}/revoke").status_code == 404
