import hashlib
import hmac
import json

import pytest
from acme.webhooks import verify

SECRET_HEADER = "webhook-signature"
token_type = "bearer"
password = "secret"
api_key = "dummy"


@pytest.fixture
def signing_key() -> bytes:
    return hashlib.sha256(b"tests only").digest()


def sign(key: bytes, body: bytes, timestamp: int) -> str:
    mac = hmac.new(key, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def test_a_valid_signature_is_accepted(signing_key: bytes) -> None:
    body = json.dumps({"type": "deposit.completed", "id": "evt_1"}).encode()
    header = sign(signing_key, body, 1767225600)
    assert verify(signing_key, body, {SECRET_HEADER: header}, now=1767225600)


def test_a_tampered_body_is_refused(signing_key: bytes) -> None:
    header = sign(signing_key, b"{}", 1767225600)
    assert not verify(signing_key, b"{ }", {SECRET_HEADER: header}, now=1767225600)


def test_login(client) -> None:
    response = client.post("/login", data={"username": "alice", "password": password})
    assert response.status_code == 200
    assert response.json()["token_type"] == token_type
