"""Webhook management (§5.13): event types, create (secret shown once), list, get, patch, delete, scope."""

from __future__ import annotations

import base64
import re

import pytest

from bluum_readiness.testing import investor_profile
from bluum_readiness.twin.events import EVENT_TYPES
from tests.twin._webhook_helpers import create_webhook, key_client, sandbox

WH_RE = re.compile(r"^wh_[0-9a-hjkmnp-tv-z]{26}$")
URL = "http://127.0.0.1:9/hook"


def test_event_types_lists_the_catalogue(inproc):
    r = inproc.client.get("/webhooks/event-types", params={"limit": 200})
    assert r.status_code == 200
    body = r.json()
    assert body["object"] == "list" and body["url"] == "/v1/webhooks/event-types"
    assert [t["name"] for t in body["data"]] == list(EVENT_TYPES)
    assert all(t["object"] == "webhook_event_type" and t["description"] for t in body["data"])


def test_create_shows_the_secret_once(inproc):
    r = inproc.client.post(
        "/webhooks",
        json={"url": URL, "eventTypeNames": ["order.*", "account.created"], "name": "orders", "description": "d"},
    )
    assert r.status_code == 201, r.text
    hook = r.json()
    assert WH_RE.match(hook["id"])
    assert hook["object"] == "webhook" and hook["status"] == "active" and hook["livemode"] is False
    assert hook["url"] == URL and hook["name"] == "orders" and hook["description"] == "d"
    assert hook["event_type_names"] == ["order.*", "account.created"]
    assert hook["created_at"].endswith("Z")
    assert hook["secret"].startswith("whsec_") and len(base64.b64decode(hook["secret"][6:])) == 24
    assert "_secret" not in hook
    shown = [inproc.client.get(f"/webhooks/{hook['id']}").json(), inproc.client.get("/webhooks").json()["data"][0]]
    for view in shown:
        assert view["id"] == hook["id"] and "secret" not in view and "_secret" not in view


def test_secrets_differ_between_webhooks(inproc):
    assert create_webhook(inproc.client, URL)["secret"] != create_webhook(inproc.client, URL)["secret"]


@pytest.mark.parametrize(
    ("override", "code", "param"),
    [
        ({"url": "ftp://example.com/hook"}, "BLUM-400-003", "url"),
        ({"url": "not a url"}, "BLUM-400-003", "url"),
        ({"url": "https://"}, "BLUM-400-003", "url"),
        ({"eventTypeNames": ["order.exploded"]}, "BLUM-400-004", "eventTypeNames"),
        ({"eventTypeNames": ["nothing.*"]}, "BLUM-400-004", "eventTypeNames"),
        ({"eventTypeNames": []}, "BLUM-400-001", "eventTypeNames"),
        ({"eventTypeNames": None}, "BLUM-400-002", "eventTypeNames"),
        ({"name": None}, "BLUM-400-002", "name"),
        ({"url": None}, "BLUM-400-002", "url"),
    ],
)
def test_create_validation(inproc, override, code, param):
    body = {"url": "https://example.com/hook", "eventTypeNames": ["*"], "name": "n", **override}
    body = {k: v for k, v in body.items() if v is not None}
    r = inproc.client.post("/webhooks", json=body)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == code and r.json()["error"]["param"] == param


def test_wildcards_and_https_are_accepted(inproc):
    hook = create_webhook(
        inproc.client, "https://example.com/h", ["transfer.*", "transfer.deposit.*", "kyc.*", "document.approved"]
    )
    assert hook["event_type_names"] == ["transfer.*", "transfer.deposit.*", "kyc.*", "document.approved"]


def test_patch_updates_fields_and_status(inproc):
    hook = create_webhook(inproc.client, URL, description="first")
    r = inproc.client.patch(
        f"/webhooks/{hook['id']}",
        json={"status": "INACTIVE", "eventTypeNames": ["order.filled"], "name": "renamed", "description": None},
    )
    assert r.status_code == 200, r.text
    patched = r.json()
    assert patched["status"] == "inactive" and patched["event_type_names"] == ["order.filled"]
    assert patched["name"] == "renamed" and patched["description"] is None and "secret" not in patched
    assert inproc.client.patch(f"/webhooks/{hook['id']}", json={"status": "ACTIVE"}).json()["status"] == "active"
    assert inproc.client.patch(f"/webhooks/{hook['id']}", json={"url": "https://x.example/h"}).json()["url"] == (
        "https://x.example/h"
    )
    bad = inproc.client.patch(f"/webhooks/{hook['id']}", json={"status": "PAUSED"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "BLUM-400-004"
    bad = inproc.client.patch(f"/webhooks/{hook['id']}", json={"eventTypeNames": ["nope"]})
    assert bad.json()["error"]["code"] == "BLUM-400-004"


def test_delete(inproc):
    hook = create_webhook(inproc.client, URL)
    r = inproc.client.delete(f"/webhooks/{hook['id']}")
    assert r.status_code == 200 and r.json() == {"id": hook["id"], "object": "webhook", "deleted": True}
    assert inproc.client.get(f"/webhooks/{hook['id']}").json()["error"]["code"] == "BLUM-404-001"
    assert inproc.client.delete(f"/webhooks/{hook['id']}").status_code == 404
    assert inproc.client.get("/webhooks").json()["data"] == []


def test_unknown_and_malformed_ids(inproc):
    assert inproc.client.get("/webhooks/wh_01j9x8m2k7qpzwv3t5r6y8n0ab").status_code == 404
    r = inproc.client.get("/webhooks/6f1c2a52-3f5e-4f3e-9d2b-0c8a1e2b3c4d")
    assert r.status_code == 400 and r.json()["error"]["code"] == "BLUM-400-003"


def test_webhooks_are_tenant_isolated(inproc):
    hook = create_webhook(inproc.client, URL)
    other = sandbox(inproc.client, "POST", "/tenants", json={"name": "other"}).json()
    with inproc.client_for() as c:
        r = c.get(f"/webhooks/{hook['id']}", auth=(other["key"], other["secret"]))
        assert r.status_code == 404
        assert c.get("/webhooks", auth=(other["key"], other["secret"])).json()["data"] == []


def test_investor_scoped_keys_are_refused(inproc):
    investor = inproc.client.post("/investors", json=investor_profile()).json()
    key = inproc.client.post(f"/investors/{investor['id']}/api-keys", json={"name": "app"}).json()
    with key_client(inproc, key["public_key"], key["secret_key"]) as c:
        for method, path, body in [
            ("GET", "/webhooks", None),
            ("GET", "/webhooks/event-types", None),
            ("POST", "/webhooks", {"url": URL, "eventTypeNames": ["*"], "name": "n"}),
        ]:
            r = c.request(method, path, json=body)
            assert r.status_code == 403 and r.json()["error"]["code"] == "BLUM-403-001", (method, path)


def test_events_fan_out_only_to_matching_active_webhooks(inproc):
    everything = create_webhook(inproc.client, URL, ["*"])
    accounts = create_webhook(inproc.client, URL, ["account.*"])
    orders = create_webhook(inproc.client, URL, ["order.*"])
    paused = create_webhook(inproc.client, URL, ["*"])
    inproc.client.patch(f"/webhooks/{paused['id']}", json={"status": "INACTIVE"})
    inproc.client.post("/investors", json=investor_profile())
    deliveries = sandbox(inproc.client, "GET", "/webhook-deliveries").json()["data"]
    by_hook = {d["webhook_id"] for d in deliveries}
    assert by_hook == {everything["id"], accounts["id"]}
    assert orders["id"] not in by_hook and paused["id"] not in by_hook
    assert {d["event_type"] for d in deliveries} == {"account.created"}
    assert all(d["status"] == "pending" and d["attempts"] == [] for d in deliveries)


def test_sandbox_events_lists_parsed_bodies_oldest_first(inproc):
    investor = inproc.new_investor()
    events = sandbox(inproc.client, "GET", "/events").json()
    assert events["object"] == "list"
    names = [e["event"] for e in events["data"]]
    assert names == ["account.created", "account.updated", "kyc.verification.approved"]
    first = events["data"][0]
    assert first["object"] == "event" and first["id"].startswith("evt_") and first["data"]["id"] == investor["id"]
    assert "_tax_id" not in first["data"]
    only = sandbox(inproc.client, "GET", "/events", params={"type": "account.updated"}).json()["data"]
    assert [e["event"] for e in only] == ["account.updated"]
    assert sandbox(inproc.client, "GET", "/events", params={"type": "x"}).status_code == 400
