"""Idempotency keys: on every money movement and order, one random UUID4 per logical operation, the same on
every retry of it."""

from __future__ import annotations

import uuid

import httpx
import pytest

from bluum_readiness.reference import new_idempotency_key
from tests.reference._doubles import body, rig


def _uuid4(key: str | None) -> uuid.UUID:
    assert key is not None, "no Idempotency-Key"
    parsed = uuid.UUID(key)
    assert parsed.version == 4 and str(parsed) == key
    return parsed


OPERATIONS = {
    "deposit": lambda c: c.create_deposit("inv_1", "10.00", funding_source_id="fs_1"),
    "withdrawal": lambda c: c.create_withdrawal("inv_1", "10.00", funding_source_id="fs_1"),
    "order": lambda c: c.place_order("inv_1", {"symbol": "AAPL", "side": "buy", "type": "market", "quantity": "1"}),
}


@pytest.mark.parametrize("operation", OPERATIONS)
def test_money_movements_and_orders_carry_a_uuid4_key(operation):
    r = rig()
    OPERATIONS[operation](r.client)
    [request] = r.script.requests
    assert request.method == "POST"
    _uuid4(request.headers.get("Idempotency-Key"))


@pytest.mark.parametrize("operation", OPERATIONS)
def test_the_same_key_is_sent_on_every_retry(operation):
    r = rig(503, httpx.ReadTimeout("timed out"), httpx.RemoteProtocolError("dropped"), 429, 500, max_attempts=6)
    OPERATIONS[operation](r.client)
    keys = r.script.keys()
    assert len(keys) == 6 and len(set(keys)) == 1
    _uuid4(keys[0])
    assert len({r.content for r in r.script.requests}) == 1  # the same body too, or the key would conflict


def test_two_operations_get_two_keys_even_with_the_same_body():
    r = rig()
    for _ in range(2):
        r.client.create_deposit("inv_1", "10.00", funding_source_id="fs_1")
    first, second = r.script.keys()
    assert first != second
    assert body(r.script.requests[0]) == body(r.script.requests[1])


def test_keys_are_random_not_counters_or_timestamps():
    keys = [_uuid4(new_idempotency_key()) for _ in range(50)]
    assert len(set(keys)) == 50
    assert len({k.int >> 64 for k in keys}) == 50  # the high bits differ too: no shared time prefix or counter


def test_a_caller_may_supply_the_key_of_a_persisted_operation():
    r = rig(503)
    key = new_idempotency_key()
    r.client.create_withdrawal("inv_1", "10.00", funding_source_id="fs_1", idempotency_key=key)
    assert r.script.keys() == [key, key]


def test_every_other_create_is_keyed_too_and_reads_are_not():
    r = rig()
    r.client.create_investor({"email": "a@example.com"})
    r.client.upload_document(
        "inv_1", document_type="id_verification", purpose="KYC", file_name="id.pdf", content=b"%PDF"
    )
    r.client.cancel_order("inv_1", "ord_1")
    r.client.get_order("inv_1", "ord_1")
    keys = r.script.keys()
    assert all(keys[:3]) and len(set(keys[:3])) == 3 and keys[3] is None


def test_a_retried_upload_sends_the_same_multipart_fields_and_file():
    r = rig(502)
    r.client.upload_document(
        "inv_1", document_type="id_verification", purpose="KYC", file_name="id.pdf", content=b"%PDF-1.4 x"
    )
    first, second = r.script.requests
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"]
    for request in (first, second):
        assert request.headers["Content-Type"].startswith("multipart/form-data")
        content = request.content
        for part in (
            b'name="document_type"',
            b"id_verification",
            b'name="purpose"',
            b'name="investor_id"',
            b'name="document"; filename="id.pdf"',
            b"application/pdf",
            b"%PDF-1.4 x",
        ):
            assert part in content


def test_deposit_and_withdrawal_bodies():
    r = rig()
    r.client.create_deposit("inv_1", "10.00", funding_source_id="fs_1")
    r.client.create_deposit("inv_1", "5.00", method="manual_bank_transfer")
    r.client.create_withdrawal("inv_1", "2.50", funding_source_id="fs_1")
    bodies = [body(request) for request in r.script.requests]
    assert bodies == [
        {"amount": "10.00", "currency": "USD", "method": "ach", "funding_source_id": "fs_1"},
        {"amount": "5.00", "currency": "USD", "method": "manual_bank_transfer"},
        {"amount": "2.50", "currency": "USD", "method": "ach", "funding_source_id": "fs_1"},
    ]
    paths = [request.url.path for request in r.script.requests]
    assert paths == ["/v1/investors/inv_1/deposits", "/v1/investors/inv_1/deposits", "/v1/investors/inv_1/withdrawals"]
