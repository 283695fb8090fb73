"""Spans and log records exported over OTLP are a log source for the observability checks, with the real
OpenTelemetry SDK: a Python integration (``tests/integrations/program/otel_adapter.py``, run as an ``exec:``
program, so the ``OTEL_*`` variables reach it as they would a team's) instrumented with ``opentelemetry-sdk``, the
OTLP/HTTP exporter and the httpx instrumentation passes the log checks with its stderr empty; without the header
capture it fails request-log with "spans without their X-Request-Id"; with the API secret in a span attribute it
fails no-secrets-in-logs; its request log exported as log records passes request-log on those. The variant without
the header capture is judged over its recorded observations (``tests/checks/recorded/otel``), the others live.

The session starts with a team's own ``OTEL_EXPORTER_OTLP_ENDPOINT`` (a closed port) in its environment: the spans
arriving at all proves the suite replaced it, and the evidence says so."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import pytest

from bluum_readiness.checks import registry
from bluum_readiness.checks.judge import Finding, judge
from bluum_readiness.checks.observation import SCENARIOS
from bluum_readiness.failures import ConformanceFailure
from bluum_readiness.protocol import ProgramFactory
from bluum_readiness.suite.session import SuiteSession
from tests.checks.recorded import scenarios
from tests.checks.recorded.otel import FOLDER
from tests.protocol.conftest import PROGRAM_DIR

LOG_CHECKS = ("observability.request-log", "observability.failures-logged", "observability.no-secrets-in-logs")
TEAM_ENDPOINT = "http://127.0.0.1:9"  # a team's collector, unreachable here
#: The known-bad variants judged over their recorded observations (``tests/checks/recorded/otel``): the checks each
#: is judged on, and the verdict (the cause) of each. The secret-attribute variant stays live: its run proves that a
#: secret arriving in a span attribute is redacted from everything the suite keeps.
KNOWN_BAD: dict[str, tuple[tuple[str, ...], dict[str, str]]] = {
    "no-header-capture": (("observability.request-log",), {"observability.request-log": "spans-without-request-id"}),
}


@pytest.fixture(scope="module")
def session() -> Iterator[SuiteSession]:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", TEAM_ENDPOINT)
        s = SuiteSession.embedded("bluum_readiness.reference:create_fast")
    yield s
    s.close()


def otel_program(variant: str) -> ProgramFactory:
    return ProgramFactory(f"{sys.executable} {PROGRAM_DIR / 'otel_adapter.py'} --variant={variant}")


def run(session: SuiteSession, check_id: str) -> tuple[str, dict[str, Any], ConformanceFailure | None]:
    evidence: dict[str, Any] = {}
    try:
        session.run(registry.get(check_id), evidence)
    except ConformanceFailure as exc:
        return "failed", evidence, exc
    return "passed", evidence, None


def test_an_integration_logging_only_spans_passes_the_log_checks_with_its_stderr_empty(session):
    session.factory = otel_program("capture")
    programs, seen = [], {}
    for check_id in LOG_CHECKS:
        outcome, evidence, failure = run(session, check_id)
        assert outcome == "passed", (check_id, failure)
        seen[check_id] = evidence
        programs += evidence.get("integration_stderr", [])  # a check that judged a shared observation started none
        otlp = evidence["otlp"]
        assert otlp["received"]["spans"] > 0 and otlp["spans_missing"] == 0
        assert otlp["environment"]["replaced"] == ["OTEL_EXPORTER_OTLP_ENDPOINT"]
        assert TEAM_ENDPOINT not in str(otlp)
    assert len(programs) == 2 and all(program["bytes"] == 0 for program in programs), programs  # one per scenario
    judged = seen["observability.request-log"]["request_log"]
    # no stderr line (the suite's own process logs httpx records of its own: never the program's)
    assert "stderr" not in judged["scanned"] and judged["scanned"]["otlp span"]["lines"] >= 5, judged["scanned"]
    assert judged["matched"] and all(m["line"].startswith("otlp span: ") for m in judged["matched"])
    failures = seen["observability.failures-logged"]["failures_logged"]
    matched = failures["matched"]  # every unanswered exchange, however soon the client retried it: it logged each
    assert len(matched) == failures["unanswered"] == 4 and not failures["transport_replays"], failures
    # the proxy ended every connection after its response: each request came on a connection of its own
    exchanges = seen["observability.failures-logged"]["exchanges"]
    assert exchanges and all(x["reused_connection"] is False for x in exchanges), exchanges
    assert all('"status": "ERROR"' in m["line"] for m in matched), matched


@pytest.mark.parametrize("variant", sorted(KNOWN_BAD))
def test_a_recorded_known_bad_variant_is_judged_by_exactly_its_checks_with_its_cause(variant):
    checks, expected = KNOWN_BAD[variant]
    assert FOLDER.verdicts(variant, checks) == expected


def test_every_recording_is_of_a_known_bad_variant():
    assert FOLDER.names() == sorted(KNOWN_BAD), "python -m tests.checks.recorded.otel.record writes them"


@pytest.mark.parametrize("variant", sorted(KNOWN_BAD))
def test_a_recording_holds_exactly_the_facts_of_the_scenarios_its_checks_read(variant):
    """A recording made before a scenario changed its facts, or before the variant's judged checks changed, is
    re-recorded (``python -m tests.checks.recorded.otel.record NAME``), never judged as it is."""
    checks, _ = KNOWN_BAD[variant]
    observations = FOLDER.load(variant)
    assert tuple(observations) == scenarios(checks), variant
    for scenario, observation in observations.items():
        assert set(observation.facts) | set(observation.missing) == set(SCENARIOS[scenario].facts), (variant, scenario)
        assert not set(observation.facts) & set(observation.missing), (variant, scenario)


def test_spans_without_the_captured_header_fail_request_log_naming_the_setting():
    """Judged over the variant's recorded observations (its spans arrived over OTLP/HTTP, without the header)."""
    verdict = judge(registry.get("observability.request-log").judge, FOLDER.load("no-header-capture"))
    assert isinstance(verdict, Finding)
    failure = verdict.failure()
    assert failure.cause == "spans-without-request-id"
    assert "exchanges are in spans without their X-Request-Id" in str(failure)
    assert "OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_CLIENT_RESPONSE=x-request-id" in failure.fix
    assert "headersToSpanAttributes" in failure.fix and "capture-response-headers" in failure.fix


def test_the_api_secret_in_a_span_attribute_fails_no_secrets_in_logs(session):
    session.factory = otel_program("secret-attribute")
    outcome, _, failure = run(session, "observability.no-secrets-in-logs")
    assert outcome == "failed" and failure is not None
    assert "the API secret in OpenTelemetry spans" in str(failure)
    assert session.credentials.current.secret not in str(failure.evidence)


def test_a_request_log_exported_as_log_records_passes_request_log(session):
    session.factory = otel_program("log-records")
    outcome, evidence, failure = run(session, "observability.request-log")
    assert outcome == "passed", failure
    assert evidence["otlp"]["received"]["log_records"] > 0
    assert all(m["line"].startswith("otlp log: ") for m in evidence["request_log"]["matched"])
