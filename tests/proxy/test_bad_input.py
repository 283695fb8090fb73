"""Bad numbers and bad JSON given to the proxy: a clear error, never a hold for ever or a connection closed silently.

Regressions of a sweep (issue 23): a rule with ``seconds = 1e309`` (TOML reads it as inf) held requests for ever
and ``GET /__proxy/faults`` then answered ``Infinity`` (not JSON); the control API closed the connection without
an answer on deeply nested or huge-integer JSON.
"""

from __future__ import annotations

import json
import math

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bluum_readiness._client_tls import default_tls_context
from bluum_readiness.errors import ConfigError
from bluum_readiness.proxy import HangBeforeFault, LatencyFault, Plan, StatusFault, WithholdAfterFault
from bluum_readiness.proxy.faults.base import MAX_FAULT_SECONDS
from bluum_readiness.proxy.server import parse_upstream

NON_FINITE = {"inf": "inf", "1e309": "1e309", "-inf": "-inf", "nan": "nan"}
DURATION_FAULTS = ["latency", "hang_before", "withhold_after"]


def _plan_file(tmp_path, body: str):
    path = tmp_path / "plan.toml"
    path.write_text(body, encoding="utf-8")
    return path


@pytest.mark.parametrize("fault", DURATION_FAULTS)
@pytest.mark.parametrize("value", list(NON_FINITE.values()), ids=list(NON_FINITE))
def test_a_non_finite_duration_in_a_plan_file_is_refused(tmp_path, fault, value):
    path = _plan_file(tmp_path, f'[[rules]]\nname = "slow"\nfault = "{fault}"\nseconds = {value}\n')
    with pytest.raises(ConfigError, match=r"rules\[0\] \('slow'\): seconds must be a finite number"):
        Plan.from_toml(path)


@pytest.mark.parametrize("fault", DURATION_FAULTS)
def test_a_duration_over_the_bound_is_refused(tmp_path, fault):
    path = _plan_file(tmp_path, f'[[rules]]\nname = "slow"\nfault = "{fault}"\nseconds = {MAX_FAULT_SECONDS + 1}\n')
    with pytest.raises(ConfigError, match=f"seconds={MAX_FAULT_SECONDS + 1}.* at most {MAX_FAULT_SECONDS:g}"):
        Plan.from_toml(path)
    ok = _plan_file(tmp_path, f'[[rules]]\nname = "slow"\nfault = "{fault}"\nseconds = {MAX_FAULT_SECONDS}\n')
    assert Plan.from_toml(ok).rules[0].fault.seconds == MAX_FAULT_SECONDS  # type: ignore[attr-defined]


@pytest.mark.parametrize("value", ["inf", "nan", "1e12"])
def test_a_non_finite_or_absurd_retry_after_is_refused(tmp_path, value):
    path = _plan_file(tmp_path, f'[[rules]]\nname = "limited"\nfault = "status"\nstatus = 429\nretry_after = {value}\n')
    with pytest.raises(ConfigError, match="retry_after"):
        Plan.from_toml(path)


@pytest.mark.parametrize("cls", [LatencyFault, HangBeforeFault, WithholdAfterFault])
@pytest.mark.parametrize("seconds", [math.inf, math.nan, MAX_FAULT_SECONDS * 2])
def test_faults_built_in_python_are_bounded_too(cls, seconds):
    with pytest.raises(ValueError, match="seconds"):
        cls(seconds=seconds)


def test_status_fault_retry_after_is_bounded_in_python():
    with pytest.raises(ValueError, match="retry_after"):
        StatusFault(429, retry_after=math.inf)


@pytest.fixture
def control(proxy):
    with httpx.Client(base_url=proxy.url + "/__proxy", timeout=5, verify=default_tls_context()) as client:
        yield client


@pytest.mark.parametrize("seconds", [b"1e309", b"-1e309", b"Infinity", b"NaN", str(MAX_FAULT_SECONDS * 10).encode()])
def test_the_control_api_refuses_a_non_finite_or_absurd_duration(control, seconds):
    body = b'{"name": "slow", "fault": "latency", "seconds": ' + seconds + b"}"
    r = control.post("/faults", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert "seconds" in error or seconds.decode() in error, error  # the parameter, or the literal JSON refused
    faults = control.get("/faults")
    assert faults.status_code == 200 and json.loads(faults.text, parse_constant=_no_constant)["rules"] == []


def _no_constant(name: str) -> None:
    raise AssertionError(f"the control API answered {name}, which is not JSON")


BAD_BODIES = {
    "deeply nested object": b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
    "deeply nested array": b"[" * 100_000 + b"]" * 100_000,
    "an integer of 5,000 digits": b'{"name": "x", "fault": "latency", "seconds": ' + b"1" * 5000 + b"}",
    "not UTF-8": b"\xff\xfe",
}


@pytest.mark.parametrize("method", ["POST", "PUT"])
@pytest.mark.parametrize("body", list(BAD_BODIES.values()), ids=list(BAD_BODIES))
def test_the_control_api_answers_400_to_json_it_cannot_read(control, method, body):
    r = control.request(method, "/faults", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 400, r.text[:300]
    assert r.json()["status"] == 400 and "request body" in r.json()["error"]
    assert control.get("/version").status_code == 200  # the proxy still serves


def test_a_plan_put_with_an_infinite_duration_is_refused_and_the_plan_kept(control):
    keep = {"seed": 3, "rules": [{"name": "slow", "fault": "latency", "seconds": 0.01}]}
    assert control.put("/faults", json=keep).status_code == 200
    bad = b'{"seed": 4, "rules": [{"name": "stuck", "fault": "hang_before", "seconds": 1e999}]}'
    r = control.put("/faults", content=bad, headers={"content-type": "application/json"})
    assert r.status_code == 400 and "1e999" in r.json()["error"], r.text
    assert control.get("/faults").json()["seed"] == 3


PLAN_FILES = {
    "nested 5,000 arrays deep": ("seed = " + "[" * 5000 + "]" * 5000 + "\n", "nested too deeply"),
    "nested 2,000 tables deep": ("x = " + "{a = " * 2000 + "1" + "}" * 2000 + "\n", "nested too deeply"),
    "an integer of 5,000 digits": ("seed = " + "1" * 5000 + "\n", "cannot be read"),
}


@pytest.mark.parametrize(("text", "expected"), list(PLAN_FILES.values()), ids=list(PLAN_FILES))
def test_a_plan_file_python_cannot_parse_is_a_config_error(tmp_path, text, expected):
    """tomllib raised RecursionError and ValueError (not TOMLDecodeError): a traceback from ``proxy --plan``."""
    with pytest.raises(ConfigError, match=expected):
        Plan.from_toml(_plan_file(tmp_path, text))


def test_an_endless_plan_file_is_refused_after_a_bound():
    """``--plan /dev/zero`` read for ever."""
    with pytest.raises(ConfigError, match="is over 1 MiB"):
        Plan.from_toml("/dev/zero")


@pytest.mark.parametrize("upstream", ["http://127.0.0.1:99999/v1", "http://127.0.0.1:0/v1"])
def test_an_upstream_port_out_of_range_is_a_config_error(upstream):
    with pytest.raises(ConfigError, match="is not a port"):
        parse_upstream(upstream)


@pytest.mark.parametrize(
    "headers",
    ['{ "X\\r\\nY" = "1" }', '{ X-A = "a\\r\\nInjected: 1" }', '{ "X A" = "1" }', '{ X-A = "é" }'],
    ids=["crlf-name", "crlf-value", "space-name", "non-ascii-value"],
)
def test_a_status_fault_header_that_cannot_be_sent_is_refused_when_the_plan_is_read(tmp_path, headers):
    """It used to be accepted and answered as a 500 each time the rule fired."""
    text = f'[[rules]]\nname = "h"\nfault = "status"\nstatus = 503\nheaders = {headers}\n'
    with pytest.raises(ConfigError, match=r"rules\[0\] \('h'\): fault 'status': headers: .* cannot be sent"):
        Plan.from_toml(_plan_file(tmp_path, text))


_json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**30), 10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([1e308, -1.0, 0.0, 3600.0, 3600.5, 86400.0, 429, 503, 999]),
    st.text(max_size=20),
    st.sampled_from(["status", "latency", "hang_before", "withhold_after", "drop_after", "reset", "GET", "/v1/**"]),
)
_json_values = st.recursive(
    _json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)
_RULE_KEYS = ["name", "fault", "status", "code", "message", "retry_after", "headers", "seconds", "after_forward",
              "method", "path", "path_regex", "nth", "first", "count", "probability"]  # fmt: skip
_entries = st.dictionaries(st.sampled_from(_RULE_KEYS), _json_values, max_size=6)
_NON_JSON = [b"NaN", b"Infinity", b"1e999", b"1" * 4400]


def test_the_control_api_answers_json_to_any_rule_entry(proxy):
    """Issue 23's control-API sweep, kept: generated rule entries and plans (any JSON value for any key, and raw
    literals JSON cannot carry) get 2xx or 4xx, always as strict JSON, and the rule list stays readable."""
    with httpx.Client(base_url=proxy.url + "/__proxy", timeout=5, verify=default_tls_context()) as client:

        @settings(max_examples=50, derandomize=True, database=None, deadline=None)
        @given(entry=_entries, plan=st.booleans(), raw=st.none() | st.sampled_from(_NON_JSON))
        def probe(entry, plan, raw):
            body = json.dumps({"seed": 1, "rules": [entry]} if plan else entry).encode()
            if raw is not None and entry:
                body = body[:-1] + b', "seconds": ' + raw + b"}"
            r = client.request("PUT" if plan else "POST", "/faults", content=body)
            assert r.status_code in (200, 201, 400, 409), (body[:200], r.status_code, r.text[:200])
            json.loads(r.text, parse_constant=_no_constant)
            if r.status_code >= 400:
                assert r.json()["status"] == r.status_code and r.json()["error"]
            listing = client.get("/faults")
            assert listing.status_code == 200
            json.loads(listing.text, parse_constant=_no_constant)
            assert client.post("/reset").status_code == 204

        probe()
