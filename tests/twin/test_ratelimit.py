"""The per-key-pair token bucket: burst = rate, 429 BLUM-429-001 with Retry-After, refill with time."""

from __future__ import annotations

from bluum_readiness.clock import ManualClock
from bluum_readiness.twin.middleware.ratelimit import TokenBuckets


def test_bucket_allows_a_burst_of_rate_then_refills():
    clock = ManualClock()
    buckets = TokenBuckets(10, clock)
    assert all(buckets.take("k") == 0 for _ in range(10))
    wait = buckets.take("k")
    assert 0 < wait <= 0.1
    clock.advance(0.1)
    assert buckets.take("k") == 0
    assert buckets.take("other") == 0  # per key


def test_429_with_retry_after_per_key_pair(make_inproc):
    t = make_inproc(rate_limit_per_s=10)
    statuses = [t.client.get("/investors").status_code for _ in range(12)]
    assert statuses[:10] == [200] * 10
    assert statuses[10:] == [429, 429]
    r = t.client.get("/investors")
    assert r.json()["error"] == {
        "type": "rate_limit_error",
        "code": "BLUM-429-001",
        "message": r.json()["error"]["message"],
    }
    assert r.headers["retry-after"] == "1"
    second_pair = t.twin.create_tenant_key(t.pair.tenant_id)
    assert t.client_for(second_pair).get("/investors").status_code == 200  # limits are per key pair
    t.clock.advance(1.0)
    assert t.client.get("/investors").status_code == 200


def test_sandbox_controls_are_not_rate_limited(make_inproc):
    t = make_inproc(rate_limit_per_s=2)
    assert [t.client.post("http://twin/_sandbox/tick").status_code for _ in range(5)] == [200] * 5
