"""The ``credential-rotation`` and ``observability`` checks discriminate: correct integrations pass them (or, without
``alerts()``, are told the alert checks are not verifiable), and each known-bad integration in
``tests/integrations/cutover_variants.py`` is flagged by exactly the checks named for it, each naming the cause of its
defect.

Judged as data, in milliseconds, over observations recorded from real runs of every one of them
(``tests/checks/recorded/cutover``; the alert defects waited out the alert timeout once, there). Live over real
sockets: the reference through every check of both items (``tests/reference/test_readiness.py``); here the alert
defect that needs no wait (``cries_wolf``) and the request-log defect of the root-logger test, each required to read
as its recording does; the rotation drill's known-bad integration in ``test_rotation_drill.py``, the same way.

What is judged where: the log and credential defects are judged on every check of both items. The alert defects
(``MONITOR_ONLY``: the reference with its ``AlertMonitor`` replaced, nothing else) are judged on the checks that read
``alerts()`` — the alert checks and ``no-secrets-in-logs`` — since the other checks never look at the monitor and
the reference passes them."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest

from bluum_readiness.catalog import causes
from bluum_readiness.checks import registry
from bluum_readiness.checks.judge import Finding, Passed, judge
from bluum_readiness.checks.observation import SCENARIOS
from bluum_readiness.failures import ConformanceFailure, NotVerifiable
from bluum_readiness.suite.session import SuiteSession
from tests.checks.judging import run_checks
from tests.checks.recorded import cutover
from tests.checks.recorded.cutover import record
from tests.integrations import configurable, cutover_variants

ITEMS = cutover.ITEMS
CHECKS = cutover.CHECKS
NV = cutover.NV
ALERT_CHECKS = {
    "observability.alert-5xx",
    "observability.alert-429",
    "observability.alert-stuck-order",
    "observability.alert-webhook-failure",
}
# what can tell an alert defect from the reference: the checks that read alerts()
READS_ALERTS = ALERT_CHECKS | {"observability.no-secrets-in-logs"}
NO_ALERTS = (
    "the integration does not expose alerts() (an optional capability of the adapter), and no [alerts] table is "
    "configured to receive the team's alert notifications (docs/alerts.md)"
)
FAILURES_LOGGED = "observability.failures-logged"
REQUEST_LOG = "observability.request-log"

#: correct integration -> the checks it cannot be judged on (not verifiable, never passed); every other check passes
CORRECT: dict[str, set[str]] = {
    "reference": set(),
    # no alerts(): the alert checks say so, never pass
    "correct_different": ALERT_CHECKS,
    "caches_but_refreshes_on_401": ALERT_CHECKS,
    # no request_log() either: its plain-text log lines are judged instead
    "logs_only": ALERT_CHECKS,
}
_UNALERTED = dict.fromkeys(sorted(ALERT_CHECKS), NV)  # a ConfigurableIntegration has no alerts()

#: known-bad integration -> the checks that do not pass, each with the cause it names (or NV); every other check it
#: is judged on passes
EXPECTED: dict[str, dict[str, str]] = {
    "credentials_cached_forever": {"credential-rotation.drill": "credentials-cached", **_UNALERTED},
    # its request_log() holds the exchanges without their X-Request-Id
    "log_without_request_ids": {REQUEST_LOG: "requests-not-logged", **_UNALERTED},
    "log_lines_without_request_ids": {REQUEST_LOG: "request-id-not-logged", **_UNALERTED},
    "no_failure_logs": {FAILURES_LOGGED: "failures-not-logged", **_UNALERTED},
    "no_failure_log_lines": {FAILURES_LOGGED: "failures-not-logged", **_UNALERTED},
    "logs_authorization_header": {"observability.no-secrets-in-logs": "secret-exposed", **_UNALERTED},
    "no_stuck_order_alert": {"observability.alert-stuck-order": "alert-missing"},
    "no_webhook_failure_alert": {"observability.alert-webhook-failure": "alert-missing"},
    "only_500_counts_as_5xx": {"observability.alert-5xx": "alert-missing"},
    "no_429_alert": {"observability.alert-429": "alert-missing"},
    "cries_wolf": dict.fromkeys(sorted(ALERT_CHECKS), "alert-false-alarm"),
}


def _judged_on(name: str) -> tuple[str, ...]:
    return tuple(sorted(READS_ALERTS)) if name in cutover_variants.MONITOR_ONLY else CHECKS


@pytest.fixture(scope="module")
def session() -> Iterator[SuiteSession]:
    # the reference's fast alert thresholds are 0.25-0.5 s (an alert fires at most about 0.5 s into the wait, read
    # every 20 ms): 1.2 s leaves it 0.7 s; the recordings were made with the same thresholds (record.LIVE_THRESHOLDS)
    s = SuiteSession.embedded(thresholds=record.LIVE_THRESHOLDS)
    yield s
    s.close()


def test_every_check_of_these_items_is_exercised_by_a_known_bad_integration():
    flagged = set().union(*(expected for _, expected in cutover_variants.KNOWN_BAD.values()))
    checks = {c.id for item in ITEMS for c in registry.for_item(item) if c.severity == "required"}
    assert checks <= flagged, f"checks with no known-bad integration proving they catch anything: {checks - flagged}"
    assert set(record.READS_ALERTS) == READS_ALERTS


# -- judged over the recordings -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CORRECT))
def test_correct_integrations_pass(name):
    verdicts = cutover.verdicts(name, CHECKS)
    assert {c for c, v in verdicts.items() if v != "passed"} == CORRECT[name], verdicts
    for check in CORRECT[name]:
        assert verdicts[check] == NV and cutover.unverifiable(name, check) == NO_ALERTS


@pytest.mark.parametrize("name", sorted(cutover_variants.KNOWN_BAD))
def test_known_bad_integration_is_flagged_by_exactly_its_checks(name):
    _, expected = cutover_variants.KNOWN_BAD[name]
    if name in cutover_variants.MONITOR_ONLY:
        assert expected <= READS_ALERTS
    verdicts = cutover.verdicts(name, _judged_on(name))
    assert {c: v for c, v in verdicts.items() if v != "passed"} == EXPECTED[name], verdicts
    assert {c for c, v in verdicts.items() if v not in ("passed", NV)} == expected
    for check in expected:
        assert verdicts[check] in causes(), verdicts[check]  # a catalogued cause (recorded.verdicts built its failure)
    for check in (set(EXPECTED[name]) & ALERT_CHECKS) - expected:
        assert cutover.unverifiable(name, check) == NO_ALERTS


def test_every_integration_is_recorded_and_every_recording_listed():
    made = record.recordings()
    assert set(cutover.names()) == set(made)
    assert set(CORRECT) | set(cutover_variants.KNOWN_BAD) <= set(made)
    for name, (_, checks, _) in made.items():
        if name in cutover_variants.KNOWN_BAD:
            assert set(checks) == set(_judged_on(name)), name


@pytest.mark.parametrize("name", sorted(record.recordings()))
def test_a_recording_holds_exactly_the_facts_of_the_scenarios_its_checks_read(name):
    """A recording made before a scenario changed its facts, or before a check read another scenario, is
    re-recorded (``python -m tests.checks.recorded.cutover.record NAME``), never judged as it is."""
    observations = cutover.load(name)
    _, checks, _ = record.recordings()[name]
    assert set(observations) == set(cutover.scenarios(checks)), name
    for scenario, observation in observations.items():
        assert set(observation.facts) | set(observation.missing) == set(SCENARIOS[scenario].facts), (name, scenario)
        assert not set(observation.facts) & set(observation.missing), (name, scenario)


def test_without_request_log_the_failures_are_judged_on_the_log_records_alone():
    # no_failure_log_lines: the records give every answered exchange (so request-log passes on them), none the
    # reset or the timeout; the same integration logging its failed attempts passes both
    spec = registry.get(FAILURES_LOGGED).judge
    assert spec is not None
    finding = judge(spec, cutover.load("no_failure_log_lines"))
    assert isinstance(finding, Finding)
    failure = finding.failure()
    assert "4 of 4 unanswered exchanges are in no log line" in str(failure)
    assert failure.cause == "failures-not-logged"
    judged = failure.evidence["failures_logged"]
    assert judged["scanned"]["logging"]["lines"] > 0 and judged["matched"] == []
    assert cutover.verdicts("no_failure_log_lines", [REQUEST_LOG]) == {REQUEST_LOG: "passed"}
    assert cutover.verdicts("logs_only_fields", [FAILURES_LOGGED]) == {FAILURES_LOGGED: "passed"}


def test_a_request_the_http_transport_replayed_is_judged_as_the_integration_saw_it():
    """An integration with no request timeout whose transport replays the deposit the proxy hung up on (as Go's
    does, ``record.GoLikeTransport``): its code saw one attempt, answered 201, and logged it — failures-logged no
    longer counts the hidden attempt as unlogged ("1 of 4 unanswered exchanges are in no log line"), and says what it
    excused."""
    spec = registry.get(FAILURES_LOGGED).judge
    assert spec is not None
    verdict = judge(spec, cutover.load("go_like_transport"))
    assert isinstance(verdict, Passed), verdict
    judged = verdict.evidence["failures_logged"]
    assert judged["unanswered"] == 3 and len(judged["matched"]) == 3, judged
    assert len(judged["transport_replays"]) == 1 and "POST" in judged["transport_replays"][0], judged


def test_a_logged_failure_retried_at_once_is_counted_as_seen_not_as_a_transport_replay():
    """An application that retries a failed request within the transport-replay window (full jitter drawing ~0 ms)
    and logs each failure: its lines are matched first, so it passes — before, every such retry was excused as the
    transport's and the check was not verifiable ("every unanswered exchange was replayed at once")."""
    spec = registry.get(FAILURES_LOGGED).judge
    assert spec is not None
    observations = cutover.load("reference")
    scene = observations["failed-exchanges"]
    seen = list(scene.facts["exchanges"])
    faulted = {x.seq for x in seen if x.status is None}
    # each retry (the next request after an unanswered one) starts 1 ms after the failure
    for n, x in enumerate(seen[:-1]):
        if x.seq in faulted:
            seen[n + 1] = dataclasses.replace(seen[n + 1], started=x.finished + 0.001)
    scene = dataclasses.replace(scene, facts={**scene.facts, "exchanges": tuple(seen)})
    verdict = judge(spec, {**observations, "failed-exchanges": scene})
    assert isinstance(verdict, Passed), verdict
    judged = verdict.evidence["failures_logged"]
    assert judged["unanswered"] == len(judged["matched"]) == len(faulted) == 4 and not judged["transport_replays"]


def test_a_failure_line_goes_to_an_exchange_no_transport_replayed_before_one_that_looks_replayed():
    """Three reset reads of one path, the first followed 1 ms later by an identical request (as a transport's replay
    would be), and failure lines for only two of them: the lines are the failures the code saw, so they go to the two
    that were not replayed, and the first is excused — not the first matched and the last left "in no log line"."""
    spec = registry.get(FAILURES_LOGGED).judge
    assert spec is not None
    observations = cutover.load("reference")
    scene = observations["failed-exchanges"]
    seen = list(scene.facts["exchanges"])
    resets = [n for n, x in enumerate(seen) if x.status is None and x.fault == "log-reset"]
    assert len(resets) == 3
    first = seen[resets[0]]
    for n, x in enumerate(seen[:-1]):  # each retry 50 ms after its failure, the first read's 1 ms after
        if x.status is None and x.fault is not None:
            later, gap = seen[n + 1], 0.001 if x is first else 0.05
            shift = x.finished + gap - later.started
            seen[n + 1] = dataclasses.replace(later, started=later.started + shift, finished=later.finished + shift)
    # the reference's records of its failed attempts (one each, with no status), less the first read's
    failures = [
        line
        for line in scene.facts["log"]
        if (line.fields or {}).get("bluum_exchange", {"status": 0})["status"] is None
    ]
    assert [line.fields["bluum_exchange"]["method"] for line in failures] == ["GET", "GET", "GET", "POST"], failures
    # (its request_log() entries say the same a second time: left out, so each failure has one line)
    facts = {**scene.facts, "exchanges": tuple(seen), "log": tuple(failures[1:]), "request_log": None}
    verdict = judge(spec, {**observations, "failed-exchanges": dataclasses.replace(scene, facts=facts)})
    assert isinstance(verdict, Passed), verdict
    judged = verdict.evidence["failures_logged"]
    assert judged["unanswered"] == len(judged["matched"]) == 3, judged
    assert len(judged["transport_replays"]) == 1, judged


# -- live, over real sockets ----------------------------------------------------------------------------------------


def _live(session: SuiteSession, factory: Any, checks: tuple[str, ...]) -> tuple[dict[str, str], dict[str, str]]:
    """(check id -> verdict as ``cutover.verdicts`` gives it, check id -> the failure's text) from running the checks
    live."""
    session.factory = factory
    verdicts: dict[str, str] = {}
    texts: dict[str, str] = {}
    for check in checks:
        try:
            session.run(registry.get(check))
        except ConformanceFailure as exc:
            verdicts[check], texts[check] = exc.cause, str(exc)
        except NotVerifiable as exc:
            verdicts[check], texts[check] = NV, exc.reason
        else:
            verdicts[check] = "passed"
    return verdicts, texts


def test_the_reference_is_run_live_through_every_check_of_both_items_elsewhere():
    """``tests/reference/test_readiness.py`` runs the reference through every check over real sockets, except the
    timed ones proven over sockets by the discrimination tests: none of these items' (running them here as well
    would repeat ~2.3 s of real waits)."""
    from tests.reference.test_readiness import OVER_SOCKETS_ELSEWHERE

    assert not set(CHECKS) & OVER_SOCKETS_ELSEWHERE


def test_an_alert_defect_judged_live_reads_as_its_recording(session):
    """The monitor that raises every alert on every exchange: flagged at once (no alert timeout to wait out)."""
    checks = _judged_on("cries_wolf")
    verdicts, texts = _live(session, cutover_variants.cries_wolf, checks)
    assert verdicts == cutover.verdicts("cries_wolf", checks), texts
    for check in cutover_variants.KNOWN_BAD["cries_wolf"][1]:
        assert f"[{check.split('.')[0]}] {check}" in texts[check]  # the failure names its check


def test_a_python_log_the_root_logger_never_sees_is_named_in_the_fix(session, monkeypatch):
    # logs_only passes request-log on its log lines; with its logger kept from the root logger (propagate=False, as
    # structlog's default configuration prints past logging) only httpx's records are seen, and the fix says why
    monkeypatch.setattr(configurable.log, "propagate", False)
    session.factory = cutover_variants.logs_only  # type: ignore[attr-defined]
    with pytest.raises(ConformanceFailure) as caught:
        session.run(registry.get(REQUEST_LOG))
    assert "no Python log record but an HTTP library's was captured" in caught.value.observed
    assert "propagate = False" in caught.value.fix and "structlog.stdlib.LoggerFactory()" in caught.value.fix
    monkeypatch.setattr(configurable.log, "propagate", True)
    session.factory = cutover_variants.log_lines_without_request_ids  # type: ignore[attr-defined]
    with pytest.raises(ConformanceFailure) as seen:  # its own lines are seen: no word of the root logger
        session.run(registry.get(REQUEST_LOG))
    assert "propagate" not in seen.value.fix
    assert f"[observability] {REQUEST_LOG}" in str(seen.value)
    # live as recorded
    assert {REQUEST_LOG: seen.value.cause} == cutover.verdicts("log_lines_without_request_ids", [REQUEST_LOG])


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
