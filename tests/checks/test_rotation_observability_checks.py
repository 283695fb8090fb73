"""The ``credential-rotation`` and ``observability`` checks discriminate: correct integrations pass them (or, without
``alerts()``, are told the alert checks are not verifiable), and each known-bad integration in
``tests/integrations/cutover_variants.py`` is flagged by exactly the checks named for it.

What is judged where: the log and credential defects are judged on every check of both items. The alert defects
(``MONITOR_ONLY``: the reference with its ``AlertMonitor`` replaced, nothing else) are judged on the checks that read
``alerts()`` — the alert checks and ``no-secrets-in-logs`` — since the other checks never look at the monitor and
the reference passes them (``test_correct_integrations_pass[reference]``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from bluum_readiness.checks import registry
from bluum_readiness.config import Thresholds
from bluum_readiness.failures import ConformanceFailure
from bluum_readiness.integration import load_factory
from bluum_readiness.suite.session import SuiteSession
from tests.checks.judging import run_checks
from tests.checks.test_discrimination import run_all
from tests.integrations import configurable, cutover_variants

ITEMS = ("credential-rotation", "observability")
ALERT_CHECKS = {
    "observability.alert-5xx",
    "observability.alert-429",
    "observability.alert-stuck-order",
    "observability.alert-webhook-failure",
}
# what can tell an alert defect from the reference: the checks that read alerts()
READS_ALERTS = ALERT_CHECKS | {"observability.no-secrets-in-logs"}


@pytest.fixture(scope="module")
def session() -> Iterator[SuiteSession]:
    # the reference's fast alert thresholds are 0.25-0.5 s (an alert fires at most about 0.5 s into the wait, read
    # every 20 ms): 1.2 s leaves it 0.7 s; a known-bad integration waits out the whole alert timeout, and one that never
    # adopts a handed-over pair waits min(settle_timeout_s, 5 s) for the adoption in the drill (the twin settles
    # in tens of milliseconds)
    s = SuiteSession.embedded(thresholds=Thresholds(alert_timeout_s=1.2, settle_timeout_s=1.5))
    yield s
    s.close()


def _failed(outcomes: dict[str, str]) -> set[str]:
    return {check for check, outcome in outcomes.items() if outcome.startswith("failed")}


def test_every_check_of_these_items_is_exercised_by_a_known_bad_integration():
    flagged = set().union(*(expected for _, expected in cutover_variants.KNOWN_BAD.values()))
    checks = {c.id for item in ITEMS for c in registry.for_item(item) if c.severity == "required"}
    assert checks <= flagged, f"checks with no known-bad integration proving they catch anything: {checks - flagged}"


@pytest.mark.parametrize(
    ("spec", "not_verifiable"),
    [
        ("bluum_readiness.reference:create_fast", set()),
        # no alerts(): the alert checks say so, never pass
        ("tests.integrations.cutover_variants:correct_different", ALERT_CHECKS),
        ("tests.integrations.cutover_variants:caches_but_refreshes_on_401", ALERT_CHECKS),
        # no request_log() either: its plain-text log lines are judged instead
        ("tests.integrations.cutover_variants:logs_only", ALERT_CHECKS),
    ],
    ids=["reference", "correct-but-different", "caches-but-refreshes", "logs-only"],
)
def test_correct_integrations_pass(session, spec, not_verifiable):
    outcomes = run_all(session, load_factory(spec), ITEMS)
    assert {c for c, o in outcomes.items() if o != "passed"} == not_verifiable, outcomes
    for check in not_verifiable:
        assert (
            outcomes[check] == "not_verifiable: the integration does not expose alerts() (an optional capability "
            "of the adapter), and no [alerts] table is configured to receive the team's alert notifications "
            "(docs/alerts.md)"
        )


@pytest.mark.parametrize("name", sorted(cutover_variants.KNOWN_BAD))
def test_known_bad_integration_is_flagged_by_exactly_its_checks(session, name):
    factory, expected = cutover_variants.KNOWN_BAD[name]
    if name in cutover_variants.MONITOR_ONLY:
        assert expected <= READS_ALERTS
        outcomes = run_checks(session, factory, sorted(READS_ALERTS))
    else:
        outcomes = run_all(session, factory, ITEMS)
    assert _failed(outcomes) == expected, outcomes
    for check in expected:
        assert f"[{check.split('.')[0]}] {check}" in outcomes[check]


def test_without_request_log_the_failures_are_judged_on_the_log_records_alone(session):
    # no_failure_log_lines: the records give every answered exchange (so request-log passes on them), none the
    # reset or the timeout; the same integration logging its failed attempts passes both
    session.factory = cutover_variants.no_failure_log_lines  # type: ignore[attr-defined]
    with pytest.raises(ConformanceFailure, match="4 of 4 unanswered exchanges are in no log line") as caught:
        session.run(registry.get("observability.failures-logged"))
    assert caught.value.cause == "failures-not-logged"
    judged = caught.value.evidence["failures_logged"]
    assert judged["scanned"]["logging"]["lines"] > 0 and judged["matched"] == []
    logged = run_checks(session, cutover_variants.logs_only_fields, ["observability.failures-logged"])
    assert logged == {"observability.failures-logged": "passed"}, logged


def test_a_python_log_the_root_logger_never_sees_is_named_in_the_fix(session, monkeypatch):
    # logs_only passes request-log on its log lines; with its logger kept from the root logger (propagate=False, as
    # structlog's default configuration prints past logging) only httpx's records are seen, and the fix says why
    monkeypatch.setattr(configurable.log, "propagate", False)
    session.factory = cutover_variants.logs_only  # type: ignore[attr-defined]
    with pytest.raises(ConformanceFailure) as caught:
        session.run(registry.get("observability.request-log"))
    assert "no Python log record but an HTTP library's was captured" in caught.value.observed
    assert "propagate = False" in caught.value.fix and "structlog.stdlib.LoggerFactory()" in caught.value.fix
    monkeypatch.setattr(configurable.log, "propagate", True)
    session.factory = cutover_variants.log_lines_without_request_ids  # type: ignore[attr-defined]
    with pytest.raises(ConformanceFailure) as seen:  # its own lines are seen: no word of the root logger
        session.run(registry.get("observability.request-log"))
    assert "propagate" not in seen.value.fix


class GoLikeTransport:
    """Go's http.Transport, as far as failures-logged can tell: a request with an Idempotency-Key whose connection
    closes before any answer is sent again at once, inside the transport — the integration's code sees one attempt."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def handle_request(self, request: Any) -> Any:
        import httpx

        try:
            return self.inner.handle_request(request)
        except (httpx.RemoteProtocolError, httpx.ReadError):
            if "idempotency-key" not in request.headers:
                raise
            return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def test_a_request_the_http_transport_replayed_is_judged_as_the_integration_saw_it():
    """An integration with no request timeout whose transport replays the deposit the proxy hung up on (as Go's
    does): its code saw one attempt, answered 201, and logged it — failures-logged no longer counts the hidden
    attempt as unlogged ("1 of 4 unanswered exchanges are in no log line"), and says what it excused."""
    import httpx

    from bluum_readiness._client_tls import default_tls_context
    from tests.integrations.variants import GOOD

    def go_like(env: Any) -> Any:
        transport = GoLikeTransport(httpx.HTTPTransport(verify=default_tls_context()))
        return configurable.ConfigurableIntegration(env, GOOD.but(client_timeout=False), transport=transport)

    s = SuiteSession.embedded(thresholds=Thresholds(request_timeout_s=0.2))
    try:
        s.factory = go_like
        evidence: dict[str, Any] = {}
        s.run(registry.get("observability.failures-logged"), evidence)
    finally:
        s.close()
    judged = evidence["failures_logged"]
    assert judged["unanswered"] == 3 and len(judged["matched"]) == 3, judged
    assert len(judged["transport_replays"]) == 1 and "POST" in judged["transport_replays"][0], judged


def test_a_client_that_logs_failed_requests_whole_leaks_personal_data_and_is_told_so(session):
    """The real-client pattern "log the whole error body": a failed request's body (the investor's tax id and date of
    birth, the bank's account and routing numbers) reaches the log. The advisory check names each field and where;
    the reference and a correct client built differently are clean."""
    from tests.integrations import variants

    check = "observability.no-personal-data-in-logs"
    whole_bodies = variants._factory(variants.GOOD.but(log_error_bodies=True))
    with pytest.raises(ConformanceFailure) as caught:
        session.factory = whole_bodies
        session.run(registry.get(check))
    finding = caught.value
    assert finding.severity == "advisory" and finding.cause == "personal-data-logged"
    assert "tax_id (as given) in Python logging" in finding.observed
    assert finding.evidence["fields"] == ["account_number", "date_of_birth", "routing_number", "tax_id"]
    assert run_checks(session, variants.correct_different, [check]) == {check: "passed"}
