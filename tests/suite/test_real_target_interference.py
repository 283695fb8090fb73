"""A real target getting in the way is nobody's defect. Its rate limit is per key pair, and a team's pair is often
shared (two CI jobs, a colleague's run): a 429 on the suite's own setup call is waited out a few times, recorded,
and then makes what needed it not verifiable; the run slows its pace; a finding on integration requests the target
refused 429, or took longer than the request timeout to answer, is not verifiable. Against the twin, which only the
run talks to, a 429 to the suite stays the suite's own fault."""

from __future__ import annotations

import email.utils
import functools
import json
import re
from pathlib import Path
from typing import Any

import pytest

from bluum_readiness._retry_after import retry_after_s
from bluum_readiness.checks import registry
from bluum_readiness.config import Thresholds
from bluum_readiness.errors import HarnessError
from bluum_readiness.failures import NotVerifiable
from bluum_readiness.harness import OWN_429_RETRIES
from bluum_readiness.proxy import FaultRule, LatencyFault, Plan, ProxyServer, StatusFault
from bluum_readiness.suite.ratelimit import SharedRateLimiter
from bluum_readiness.suite.session import SuiteSession
from bluum_readiness.twin import TwinSettings
from tests.checks.judging import run_checks
from tests.fixtures.cli import cli
from tests.fixtures.real_target import twin_as_real_target
from tests.integrations.configurable import ConfigurableIntegration, Knobs

RUN_CONFIG = "rate_limit_per_s = 1000\n"  # a pace that costs the test nothing
REFERENCE = ("--integration", "bluum_readiness.reference:create_fast")  # named: under CI nothing runs by default
CHECK = "error-handling.5xx-retried"  # its set-up starts with the suite's own POST /investors


def another_job(**when: Any) -> FaultRule:
    """What a second client on the same key pair does to the suite's investor creation: the target's 429."""
    return FaultRule("another-ci-job", StatusFault(429, retry_after=0), method="POST", path="/v1/investors", **when)


def test_a_shared_pairs_429_on_the_suites_setup_is_waited_out_and_recorded() -> None:
    """Two 429s, then the target lets the call through: the check judges the integration as usual (over real
    sockets), and its evidence says what the suite waited for."""
    evidence: dict[str, Any] = {}
    with twin_as_real_target(another_job(first=2)) as remote:
        remote.run(registry.get(CHECK), evidence)
    waits = evidence["target_rate_limited_suite"]
    assert [w["call"] for w in waits] == ["POST /v1/investors"] * 2, waits
    assert all(w["waited_s"] == 0 and w["request_id"] for w in waits), waits


def test_a_target_that_keeps_refusing_the_suite_makes_the_check_not_verifiable_not_broken(tmp_path: Path) -> None:
    """Refused at every attempt: the run's pace (shared by its processes) is halved, and the check is not
    verifiable, saying the pair seems shared — never broken (over real sockets)."""
    evidence: dict[str, Any] = {}
    limiter = SharedRateLimiter.create(1000.0, directory=str(tmp_path))  # a pace that costs the test nothing
    with twin_as_real_target(another_job(), limiter=limiter) as remote:
        with pytest.raises(NotVerifiable) as raised:
            remote.run(registry.get(CHECK), evidence)
    reason = raised.value.reason
    assert f"setup call POST /v1/investors with 429 {OWN_429_RETRIES + 1} times" in reason, reason
    assert "another client is using this key pair" in reason and "Not a defect of the integration" in reason, reason
    paces = [w.get("pace_per_s") for w in evidence["target_rate_limited_suite"]]
    assert len(paces) == OWN_429_RETRIES and paces[0] == 500.0, paces  # halved, once for the burst
    assert SharedRateLimiter(limiter.path, 1000.0).slow_down(1.0) < 1000.0, "every process of the run keeps it"


def test_the_twin_rate_limiting_the_suite_is_the_suites_own_fault() -> None:
    """Only the run talks to the twin, and the suite paces itself below its limit: a 429 there is a bug of ours."""
    session = SuiteSession.embedded(twin_settings=TwinSettings.fast(rate_limit_per_s=0.001))
    try:
        with pytest.raises(HarnessError, match="was rate limited .429. by the target: the run exceeded"):
            session.run(registry.get(CHECK))
    finally:
        session.close()


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("2", 2.0), ("0", 0.0), ("1.5", 1.5), ("-3", 0.0), (None, 1.0), ("soon", 1.0),
     (email.utils.formatdate(1_800_000_005, usegmt=True), 5.0), (email.utils.formatdate(1_799_999_000), 0.0)],
)  # fmt: skip
def test_retry_after_reads_seconds_and_dates(value: str | None, seconds: float) -> None:
    assert retry_after_s(value, now=1_800_000_000.0) == seconds


def test_a_finding_on_the_integrations_requests_the_target_refused_429_is_not_verifiable(tmp_path: Path) -> None:
    """The target answers the integration's bank linking 429 (another client on the pair; the run kept under the
    limit): the reference retries, then gives up, as it should. What the journey saw comes from the refusals, not
    the integration, so it is not verifiable, naming them and what it saw; and the run slows down (the proxy told
    the shared pace). Over real sockets."""
    limiter = SharedRateLimiter.create(1000.0, directory=str(tmp_path))
    connect = "/v1/investors/*/funding-sources/connect"  # only the integration links banks in the journey
    refused = FaultRule("another-ci-job", StatusFault(429, retry_after=0), method="POST", path=connect)
    with twin_as_real_target(refused, limiter=limiter) as remote:
        with pytest.raises(NotVerifiable) as raised:
            remote.run(registry.get("lifecycle.full-journey"))
    reason = raised.value.reason
    assert "the target itself answered" in reason and "of the integration's requests 429" in reason, reason
    assert "/funding-sources/connect, request req_" in reason and "when the pair is not shared" in reason, reason
    assert "RateLimited" in reason, "what the journey saw is kept"
    assert SharedRateLimiter(limiter.path, 1000.0).slow_down(1.0) == 500.0, "the proxy slowed the run down"


def test_a_run_the_target_rate_limited_says_so_in_its_record_and_on_the_console(tmp_path, twin_server, monkeypatch):
    """``bluum-readiness run`` against a target that refuses two of the integration's requests 429 (another
    client on the pair): readiness.json's target records the refusals and the slowest pace, the console says what
    they mean and what to do (over real sockets, the command in this process)."""
    connect = "/v1/investors/*/funding-sources/connect"
    refused = FaultRule("another-ci-job", StatusFault(429, retry_after=0), method="POST", path=connect, first=2)
    (tmp_path / "bluum-readiness.toml").write_text(RUN_CONFIG, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    pair = {"BLUUM_API_KEY": twin_server.pair.key, "BLUUM_API_SECRET": twin_server.pair.secret}
    with ProxyServer(twin_server.base_url, Plan(rules=(refused,))) as target:
        result = cli("run", *REFERENCE, "--target", target.base_url, "--only", "lifecycle", "--out", "out", env=pair)
    document = json.loads((tmp_path / "out" / "readiness.json").read_text(encoding="utf-8"))
    assert document["target"]["rate_limited"] == {"refusals": 2, "slowest_per_s": 500.0}, result.stdout
    assert "The target answered 2 request(s) 429 although the run kept under its rate limit" in result.stdout
    assert "500 requests/s at its slowest" in result.stdout and "a key pair of its own" in result.stdout
    markdown = (tmp_path / "out" / "readiness.md").read_text(encoding="utf-8")
    assert "it answered 2 request(s) 429 although the run kept under its rate limit" in markdown  # and every report


def test_a_run_the_target_never_rate_limited_records_nothing_of_it(tmp_path, twin_server, monkeypatch):
    (tmp_path / "bluum-readiness.toml").write_text(RUN_CONFIG, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    pair = {"BLUUM_API_KEY": twin_server.pair.key, "BLUUM_API_SECRET": twin_server.pair.secret}
    result = cli("run", *REFERENCE, "--target", twin_server.base_url, "--only", "smoke-test", "--out", "out", env=pair)
    document = json.loads((tmp_path / "out" / "readiness.json").read_text(encoding="utf-8"))
    assert "rate_limited" not in document["target"] and "429 although" not in result.stdout


def test_a_finding_on_requests_a_real_target_answered_too_slowly_is_not_verifiable() -> None:
    """The target takes longer than the request timeout the suite gave the integration to answer its bank
    linking (no fault of the suite's: the target's own slowness): every attempt times out and the reference gives
    up, as it should. Not verifiable, naming the slowness and the setting — never a finding (over real sockets)."""
    slow = FaultRule("slow-sandbox", LatencyFault(0.4), method="POST", path="/v1/investors/*/funding-sources/connect")
    with twin_as_real_target(slow, thresholds=Thresholds(request_timeout_s=0.1)) as remote:
        with pytest.raises(NotVerifiable) as raised:
            remote.run(registry.get("lifecycle.full-journey"))
    reason = raised.value.reason
    assert "the target itself took longer to answer" in reason, reason
    assert re.search(r"first: POST /v1/investors/inv_\w+/funding-sources/connect, \d+ ms;", reason), reason
    assert "[thresholds] request_timeout_s" in reason and "not a defect of the integration" in reason, reason


def test_an_integration_giving_up_sooner_than_the_request_timeout_is_still_judged() -> None:
    """The target answers the integration's deposits in ~0.3 s, within the 1 s request timeout the suite gives; an
    integration that gives up after 0.1 s of its own never gets an answer. That is its doing, not the target's:
    the finding stands (over real sockets)."""
    slow = FaultRule("slowish-sandbox", LatencyFault(0.3), method="POST", path="/v1/investors/*/deposits")
    impatient = Knobs(timeout_s=0.1, max_attempts=2)
    with twin_as_real_target(slow, thresholds=Thresholds(request_timeout_s=1.0)) as remote:
        factory = functools.partial(ConfigurableIntegration, knobs=impatient)
        outcome = run_checks(remote, factory, [CHECK])[CHECK]
    assert outcome.startswith("failed: "), outcome  # (not verifiable would skip under pytest.raises: said here)


def _firewall_page(h: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The suite's own setup calls answered 200 with an HTML page, as a firewall or a proxy in front of an API may."""
    import httpx

    def page(method: str, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.Response(200, text="<html><body>Request blocked</body></html>",
                              headers={"content-type": "text/html", "x-request-id": "req_blocked"},
                              request=httpx.Request(method, "https://sandbox.example/v1" + path))  # fmt: skip

    monkeypatch.setattr(h, "_send", page)


def test_a_setup_call_a_real_target_answers_with_a_page_not_json_is_not_verifiable_not_broken(monkeypatch):
    """Before: the JSON error escaped the harness, and the check was broken ("harness error")."""
    with twin_as_real_target() as remote, remote.harness() as h:
        _firewall_page(h, monkeypatch)
        with pytest.raises(NotVerifiable, match="a body that is not JSON \\(text/html, request req_blocked\\)"):
            h.call("POST", "/investors", json={})


def test_against_the_twin_a_setup_call_answered_with_a_page_is_the_suites_own_fault(monkeypatch):
    session = SuiteSession.embedded("bluum_readiness.reference:create_fast")
    try:
        with session.harness() as h:
            _firewall_page(h, monkeypatch)
            with pytest.raises(HarnessError, match="answered 200 with a body that is not JSON"):
                h.call("POST", "/investors", json={})
    finally:
        session.close()
