"""Times and URLs a client gets wrong: a 400 in Bluum's envelope, never a 500 or a delivery stuck for ever.

Regressions of a sweep (issue 23): a time outside what ISO 8601 rendering can write (``expires_at`` of 1e300,
year 10000 after a timezone offset, before year 1) was a 500 on ``POST /_sandbox/api-keys`` and on an upload's
``expires_at``/``issued_at``; a webhook URL with a control character or a space was registered (201), and then
every delivery to it raised ``httpx.InvalidURL`` in the dispatcher, stayed ``pending`` with no attempt, and
logged a traceback on every tick.
"""

from __future__ import annotations

import pytest

from bluum_readiness.testing import investor_profile
from tests.twin._webhook_helpers import create_webhook, sandbox
from tests.twin.money_helpers import error

OUT_OF_RANGE = [1e300, -1e300, 10**30, 253402300800, -1, "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"]


@pytest.mark.parametrize("field", ["expires_at", "created"])
@pytest.mark.parametrize("value", OUT_OF_RANGE, ids=str)
def test_a_tenant_key_time_out_of_range_is_400(inproc, field, value):
    r = sandbox(inproc.client, "POST", "/api-keys", json={"name": "k", field: value})
    assert r.status_code == 400, r.text
    assert error(r)["code"] == "BLUM-400-003" and error(r)["param"] == field


def test_a_tenant_key_time_at_the_edges_of_the_range_is_accepted(inproc):
    r = sandbox(inproc.client, "POST", "/api-keys", json={"name": "k", "expires_at": "9999-12-31T23:59:59Z"})
    assert r.status_code == 201 and r.json()["expires_at"] == "9999-12-31T23:59:59Z", r.text
    r = sandbox(inproc.client, "POST", "/api-keys", json={"name": "k", "created": 0})
    assert r.status_code == 201, r.text


@pytest.mark.parametrize("value", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"])
def test_an_upload_time_out_of_range_is_400(inproc, value):
    investor = inproc.new_investor()
    r = inproc.client.post(
        "/documents",
        data={"document_type": "id", "investor_id": investor["id"], "expires_at": value},
        files={"document": ("a.pdf", b"%PDF-1.4", "application/pdf")},
    )
    assert r.status_code == 400, r.text
    assert error(r)["code"] == "BLUM-400-003" and error(r)["param"] == "expires_at"


@pytest.mark.parametrize(
    "url",
    ["http://example.com/\x00", "http://example.com/a\r\nX-Injected: 1", "http://exa mple.com/h", "http://ex\tample/"],
    ids=["nul", "crlf", "space", "tab"],
)
def test_a_webhook_url_with_a_control_character_or_space_is_400(inproc, url):
    for method, path, body in [
        ("POST", "/webhooks", {"name": "h", "url": url, "eventTypeNames": ["*"]}),
        ("PATCH", "/webhooks/{id}", {"url": url}),
    ]:
        if "{id}" in path:
            path = path.format(id=create_webhook(inproc.client, "http://127.0.0.1:9/hook")["id"])
        r = inproc.client.request(method, path, json=body)
        assert r.status_code == 400, r.text
        assert error(r)["code"] == "BLUM-400-003" and error(r)["param"] == "url"


def test_a_stored_url_httpx_refuses_is_a_failed_attempt_not_a_delivery_stuck_pending(inproc):
    """A twin database written before the URL check may hold such a URL: its deliveries must still end."""
    hook = create_webhook(inproc.client, "http://127.0.0.1:9/hook")
    stored = inproc.twin.store.get(inproc.pair.tenant_id, "webhook", hook["id"])
    assert stored is not None
    with inproc.twin.db.tx():
        inproc.twin.store.save(inproc.pair.tenant_id, {**stored, "url": "http://example.com/\x00"})
    assert inproc.client.post("/investors", json=investor_profile()).status_code == 201
    for _ in range(len(inproc.twin.settings.webhook_retry_schedule_s) + 1):
        assert sandbox(inproc.client, "POST", "/tick").status_code == 200
        inproc.clock.advance(60)
    [delivery, *_] = sandbox(inproc.client, "GET", "/webhook-deliveries").json()["data"]
    assert delivery["status"] == "parked", delivery
    assert "InvalidURL" in delivery["attempts"][0]["error"], delivery


@pytest.mark.parametrize("path", ["deposits", "withdrawals", "transactions"])
def test_a_date_range_ending_on_the_last_representable_day_is_served(inproc, path):
    """``date_to=9999-12-31`` computed the next day as a ``date`` and overflowed: a 500 on three lists."""
    investor = inproc.new_investor()
    r = inproc.client.get(
        f"/investors/{investor['id']}/{path}", params={"date_from": "0001-01-01", "date_to": "9999-12-31"}
    )
    assert r.status_code == 200, r.text


SURROGATE_BODIES = {
    "a tenant name": ("POST", "http://twin/_sandbox/tenants", b'{"name": "\\ud800"}'),
    "an order metadata key": (
        "POST",
        "/investors/{inv}/orders",
        b'{"symbol": "AAPL", "side": "buy", "type": "market", "time_in_force": "day", "quantity": "1", '
        b'"metadata": {"\\udfff": "x"}}',
    ),
}


@pytest.mark.parametrize(("method", "path", "body"), list(SURROGATE_BODIES.values()), ids=list(SURROGATE_BODIES))
def test_a_lone_surrogate_escape_in_a_json_body_is_400(inproc, method, path, body):
    """``"\\ud800"`` is valid JSON syntax but not text: pydantic let it through a tenant name (and in dict keys),
    and the response could not be encoded as UTF-8 (500)."""
    investor = inproc.new_investor()
    r = inproc.client.request(
        method, path.format(inv=investor["id"]), content=body, headers={"content-type": "application/json"}
    )
    assert r.status_code == 400, r.text
    assert error(r)["code"] == "BLUM-400-001" and "surrogate" in error(r)["message"]


def test_a_lone_surrogate_escape_in_upload_metadata_is_400(inproc):
    investor = inproc.new_investor()
    r = inproc.client.post(
        "/documents",
        data={"document_type": "id", "investor_id": investor["id"], "metadata": '{"a": "\\ud800"}'},
        files={"document": ("a.pdf", b"%PDF-1.4", "application/pdf")},
    )
    assert r.status_code == 400 and error(r)["param"] == "metadata", r.text


def test_an_escaped_surrogate_pair_is_ordinary_text(inproc):
    r = inproc.client.post("http://twin/_sandbox/tenants", content=b'{"name": "\\ud83d\\ude00"}')
    assert r.status_code == 201, r.text
