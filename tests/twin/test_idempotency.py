"""Idempotency-Key behaviour common to every POST (deposit-specific rules are tested with deposits)."""

from __future__ import annotations

import concurrent.futures
import threading

import httpx

from bluum_readiness.testing import investor_profile


def test_same_key_same_body_replays_the_original(inproc):
    profile = investor_profile()
    first = inproc.client.post("/investors", json=profile, headers={"Idempotency-Key": "k-1"})
    again = inproc.client.post("/investors", json=profile, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert again.headers["x-request-id"] != first.headers["x-request-id"]
    assert len(inproc.client.get("/investors").json()["data"]) == 1


def test_key_order_and_whitespace_do_not_matter(inproc):
    profile = investor_profile()
    first = inproc.client.post("/investors", json=profile, headers={"Idempotency-Key": "k-2"})
    reordered = dict(reversed(list(profile.items())))
    again = inproc.client.post("/investors", json=reordered, headers={"Idempotency-Key": "k-2"})
    assert again.json()["id"] == first.json()["id"]


def test_same_key_different_body_is_409_002(inproc):
    inproc.client.post("/investors", json=investor_profile(), headers={"Idempotency-Key": "k-3"})
    r = inproc.client.post("/investors", json=investor_profile(), headers={"Idempotency-Key": "k-3"})
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "BLUM-409-002"
    assert r.json()["error"]["type"] == "idempotency_error"


def test_errors_are_replayed_too(inproc):
    bad = investor_profile(account_type="ira")
    first = inproc.client.post("/investors", json=bad, headers={"Idempotency-Key": "k-4"})
    again = inproc.client.post("/investors", json=bad, headers={"Idempotency-Key": "k-4"})
    assert first.status_code == again.status_code == 400
    assert again.json() == first.json()


def test_keys_are_scoped_per_key_pair(inproc):
    other_pair = inproc.twin.create_tenant_key(inproc.pair.tenant_id)
    a = inproc.client.post("/investors", json=investor_profile(), headers={"Idempotency-Key": "shared"})
    b = inproc.client_for(other_pair).post("/investors", json=investor_profile(), headers={"Idempotency-Key": "shared"})
    assert a.status_code == b.status_code == 201 and a.json()["id"] != b.json()["id"]


def test_keys_expire_after_24_hours(inproc):
    profile = investor_profile()
    first = inproc.client.post("/investors", json=profile, headers={"Idempotency-Key": "k-5"})
    inproc.clock.advance(24 * 3600 + 1)
    r = inproc.client.post("/investors", json=profile, headers={"Idempotency-Key": "k-5"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "BLUM-409-001"  # processed again: duplicate email
    assert first.status_code == 201


def test_overlong_key_is_400_003(inproc):
    r = inproc.client.post("/investors", json=investor_profile(), headers={"Idempotency-Key": "k" * 256})
    assert r.status_code == 400 and r.json()["error"]["param"] == "Idempotency-Key"


def test_concurrent_duplicates_over_real_sockets_are_processed_once(twin_server):
    profile = investor_profile()
    barrier = threading.Barrier(8)

    def send() -> httpx.Response:
        with httpx.Client(base_url=twin_server.base_url, auth=twin_server.auth, timeout=10) as c:
            barrier.wait()
            return c.post("/investors", json=profile, headers={"Idempotency-Key": "concurrent-1"})

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(lambda _: send(), range(8)))
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1
    with httpx.Client(base_url=twin_server.base_url, auth=twin_server.auth) as c:
        assert len(c.get("/investors").json()["data"]) == 1
