"""The per-key-pair token bucket: burst = rate, 429 BLUM-429-001 with Retry-After, refill with time."""

from __future__ import annotations

import pytest
import uvicorn

from bluum_readiness.cli.main import main
from bluum_readiness.clock import ManualClock
from bluum_readiness.errors import ConfigError
from bluum_readiness.twin import TwinSettings
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


def test_a_rate_below_one_per_second_still_serves_one_request_per_interval(make_inproc):
    """Regression (issue 23): ``--rate-limit 0.5`` made a bucket that never held a whole token: 429 for ever."""
    t = make_inproc(rate_limit_per_s=0.5)
    assert t.client.get("/investors").status_code == 200
    refused = t.client.get("/investors")
    assert refused.status_code == 429 and refused.headers["retry-after"] == "2"
    t.clock.advance(2.0)
    assert t.client.get("/investors").status_code == 200
    assert t.client.get("/investors").status_code == 429


@pytest.mark.parametrize("rate", [float("nan"), float("inf"), float("-inf"), 0.0, -1.0, 1e-9, 1e9])
def test_a_rate_limit_outside_its_range_is_a_setting_error(rate):
    with pytest.raises(ConfigError, match=r"rate_limit_per_s=.* must be > 0 and finite.*0\.001 and 1,000,000"):
        TwinSettings(rate_limit_per_s=rate)


@pytest.mark.parametrize("name", ["kyc_delay_s", "ach_completion_delay_s", "idempotency_wait_s", "tick_interval_s"])
@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_a_non_finite_duration_is_a_setting_error(name, value):
    """A delay of inf (or nan) scheduled its job never: a deposit acknowledged and never settled."""
    with pytest.raises(ConfigError, match=f"{name}=.* finite"):
        TwinSettings.from_mapping({name: value})
    with pytest.raises(ConfigError, match="webhook_retry_schedule_s .*finite"):
        TwinSettings.from_mapping({"webhook_retry_schedule_s": [1, value]})


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "0", "0.0000001", "1e12"])
def test_the_sandbox_command_refuses_a_rate_limit_outside_its_range_in_one_line(value, capsys, monkeypatch):
    """``bluum-readiness sandbox --rate-limit nan`` turned limiting off; now every such value is exit 2."""

    def serve(*_args: object, **_kwargs: object) -> None:
        raise AssertionError(f"--rate-limit {value} was accepted: the twin started serving")

    monkeypatch.setattr(uvicorn.Server, "run", serve)
    assert main(["sandbox", "--port", "0", "--db", ":memory:", f"--rate-limit={value}"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith("bluum-readiness: error: ") and "--rate-limit" in err and "requests/s" in err, err


@pytest.mark.parametrize(
    ("name", "value"), [("rate_limit_per_s", "10"), ("kyc_delay_s", True), ("max_upload_bytes", 1.5)]
)
def test_a_setting_of_the_wrong_type_is_a_setting_error_not_a_type_error(name, value):
    with pytest.raises(ConfigError, match=f"twin setting {name}=.* must be a number"):
        TwinSettings.from_mapping({name: value})
