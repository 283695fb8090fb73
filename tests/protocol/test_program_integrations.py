"""The whole suite on integrations that are programs: a Node team's client (correct, and known-bad variants that
fail exactly their checks — the same checks a Python adapter with the same defect fails), the reference as a
separate Python process (a second language for the protocol), and programs that crash, hang or break the
protocol (harness errors, never hangs).

What is proven where (so each known-bad variant runs only what it must): the correct JavaScript integration passes every
check of every item over the protocol, once, the scenarios that mostly wait observed side by side first, as a user's
serial run does (``suite/prelude.py``; tests/suite proves the prelude judges as a check's own turn does); each known-bad
variant is that integration with one knob turned (``acme_adapter.mjs``) and is judged on its items' checks except the
timed ones it must pass (``TIMED``: their cost is waiting, and the correct integration already proved the program path
passes them) and the alert checks (not verifiable without ``alerts()``, proven once by the correct integration): it
fails exactly the checks named for it, each naming the cause of its defect, and passes every other check it is judged
on. The Python adapter with the same defect is flagged by the same checks with the same cause; that it fails nothing
else of its items is tests/checks' business for Python adapters. The known-bad variants and their Python twins are
judged over observations recorded from real runs of those very programs (``tests/protocol/recorded``, re-recorded with
``python -m tests.protocol.recorded.record``); one of them (``LIVE_JS``) also runs live, and its live verdicts must be
the recorded ones.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import psutil
import pytest

from bluum_readiness.catalog import items
from bluum_readiness.checks import registry
from bluum_readiness.checks._alert_sources import NO_SOURCE
from bluum_readiness.checks._support import call
from bluum_readiness.checks.judge import Finding, judge
from bluum_readiness.checks.observation import SCENARIOS
from bluum_readiness.config import Thresholds
from bluum_readiness.integration import IntegrationEnv
from bluum_readiness.protocol import OperationFailed, ProgramBroken, ProgramFactory, adapter
from bluum_readiness.suite.prelude import side_by_side_scenarios, start_side_by_side
from bluum_readiness.suite.session import SuiteSession
from tests.checks.judging import run_checks
from tests.checks.test_discrimination import run_all
from tests.integrations import variants
from tests.integrations.configurable import ConfigurableIntegration, LogsOnly
from tests.protocol import recorded
from tests.protocol.conftest import NODE_DIR, PROGRAM_DIR

ALL_ITEMS = tuple(item.id for item in items())
# What a program without alerts() cannot be judged on (not verifiable, never passed); its request log is judged
# from its JSON log lines on stderr.
NEEDS_ALERTS = {check.id for item in ALL_ITEMS for check in registry.for_item(item) if "alerts" in check.needs}


@pytest.fixture(scope="module")
def session() -> Iterator[SuiteSession]:
    s = SuiteSession.embedded("bluum_readiness.reference:create_fast")
    yield s
    s.close()


@pytest.fixture(scope="module")
def known_bad_session() -> Iterator[SuiteSession]:
    """For the known-bad variants: the drill waits min(settle_timeout_s, 5 s) for an adoption that a pair read once
    never makes (1.5 s: the twin settles in tens of milliseconds); nothing these variants must pass waits on settlement
    for long."""
    s = SuiteSession.embedded("bluum_readiness.reference:create_fast", thresholds=Thresholds(settle_timeout_s=1.5))
    yield s
    s.close()


def acme(node: str, variant: str = "") -> ProgramFactory:
    flag = f" --variant={variant}" if variant else ""
    return ProgramFactory(f"{node} {NODE_DIR / 'acme_adapter.mjs'}{flag}")


def python_program(variant: str = "reference") -> ProgramFactory:
    import sys

    return ProgramFactory(f"{sys.executable} {PROGRAM_DIR / 'python_adapter.py'} --variant={variant}")


def by_status(outcomes: dict[str, str], status: str) -> set[str]:
    return {check for check, outcome in outcomes.items() if outcome.startswith(status)}


def python_with(**knobs: Any) -> Callable[[IntegrationEnv], Any]:
    return lambda env: ConfigurableIntegration(env, variants.GOOD.but(**knobs))


def start_prelude(session: SuiteSession, factory: ProgramFactory, checks: Iterable[str]) -> Callable[[], None]:
    """What a user's serial run does (``suite/prelude.py``): start observing the scenarios of ``checks`` that mostly
    wait side by side, each with a program of its own, before their checks judge them (the session waits for them
    before any check not allowed beside them). Call what it returns once the checks ran: it asserts that every one
    of those scenarios was observed side by side (none failed and was left to its checks)."""
    session.factory = factory
    scenarios = side_by_side_scenarios(registry.get(check) for check in checks)
    prelude = session.prelude = start_side_by_side(session, scenarios)
    assert prelude is not None or len(scenarios) < 2, "a serial run against the twin observes these side by side"

    def observed() -> None:
        if prelude is not None:
            assert session.prelude is None, "the checks ran without waiting for the prelude"
            assert sorted(prelude.wait()) == sorted(scenario.name for scenario in scenarios)

    return observed


@pytest.mark.parametrize("item", ALL_ITEMS)  # one item per test, so xdist workers share the work
def test_a_correct_javascript_integration_passes_everything_it_can_be_judged_on(session, node, item):
    factory = acme(node)
    observed_side_by_side = start_prelude(session, factory, [check.id for check in registry.for_item(item)])
    outcomes = run_all(session, factory, (item,))
    observed_side_by_side()
    assert len(outcomes) == len(registry.for_item(item)), outcomes
    # out-of-order: both deliveries acknowledged, but without resource_status the state part cannot be seen
    unjudged = (NEEDS_ALERTS | {"webhooks.out-of-order"}) & set(outcomes)
    assert by_status(outcomes, "not_verifiable") == unjudged, outcomes
    assert by_status(outcomes, "passed") == set(outcomes) - unjudged, outcomes
    if item == "observability":
        assert "observability.request-log" in by_status(outcomes, "passed")  # from its JSON lines on stderr
    assert not [p for p in psutil.Process().children(recursive=True) if "acme_adapter" in " ".join(p.cmdline())]


def test_an_alert_check_starts_no_program_whose_handshake_advertised_no_alerts(session, node, monkeypatch):
    """Without [alerts], a program whose last handshake advertised no alerts() leaves every alert check not
    verifiable for the reason a started program gives, without starting another (~0.4 s of a run per check)."""
    factory = acme(node)
    first = run_checks(session, factory, ["observability.alert-5xx"])  # started: its reason is the program's
    assert factory.advertised is not None and "alerts" not in factory.advertised
    starts: list[IntegrationEnv] = []
    start = ProgramFactory.__call__
    monkeypatch.setattr(ProgramFactory, "__call__", lambda self, env: starts.append(env) or start(self, env))
    rest = run_checks(session, factory, sorted(NEEDS_ALERTS - {"observability.alert-5xx"}))
    assert starts == [], "an alert check started the program"
    assert set(rest.values()) == {first["observability.alert-5xx"]} == {f"not_verifiable: {NO_SOURCE}"}, rest


# variant -> (the items it is judged on, the checks that must flag it, the same defect in a Python adapter)
KNOWN_BAD_JS: dict[str, tuple[tuple[str, ...], set[str], Callable[[IntegrationEnv], Any]]] = {
    "env-credentials": (
        ("error-handling", "credential-rotation"),
        {"error-handling.401-refresh", "credential-rotation.drill"},
        python_with(cache_credentials=True, refresh_on_401=False),
    ),
    "no-retries": (
        ("error-handling",),
        {
            "error-handling.429-backoff-grows",
            "error-handling.429-jitter",
            "error-handling.429-retry-after",
            "error-handling.5xx-retried",
            "error-handling.timeout-retried",
            "error-handling.dropped-connection-retried",
        },
        python_with(max_attempts=1),
    ),
    "no-withdrawal-key": (
        ("idempotency", "lifecycle"),
        # lifecycle.error-paths: its withdrawal "above the balance" is refused for the missing key, not the balance
        {"idempotency.key-on-every-transfer", "lifecycle.full-journey", "lifecycle.error-paths"},
        python_with(key_mode="deposits_only"),
    ),
    "logs-secret": (
        ("error-handling", "observability"),
        {"error-handling.secret-never-logged", "observability.no-secrets-in-logs"},
        python_with(log_secret=True),
    ),
    "log-without-request-id": (
        ("observability",),
        {"observability.request-log"},
        lambda env: LogsOnly(env, variants.GOOD.but(log_request_ids=False)),
    ),
    "no-failure-logs": (("observability",), {"observability.failures-logged"}, python_with(log_failures=False)),
    "swallows-4xx": (
        ("error-handling",),
        {"error-handling.400-not-retried", "error-handling.4xx-not-retried"},
        python_with(swallow_4xx=True),
    ),
}


# The checks whose cost is waiting (retry and backoff timing, hung requests, settlement, the exactly-once storm, the
# rotation drill): a known-bad variant is judged on one of them only when it must fail it.
TIMED = {
    "credential-rotation.drill",
    "error-handling.429-backoff-grows",
    "error-handling.429-bounded",
    "error-handling.429-jitter",
    "error-handling.429-retry-after",
    "error-handling.backoff-between-retries",
    "error-handling.dropped-connection-retried",
    "error-handling.request-timeout",
    "error-handling.timeout-retried",
    "idempotency.exactly-once",
    "idempotency.same-key-on-retry",
    "lifecycle.money-invariants",
    "observability.failures-logged",
    "webhooks.end-to-end",
}


#: What a known-bad variant leaves not verifiable: its journey's withdrawal is refused for the missing key, so the
#: webhook events of that journey could not follow (lifecycle.full-journey judges the journey, naming the cause).
UNJUDGED = {"no-withdrawal-key": {"lifecycle.webhook-events"}}


def judged_checks(items_: tuple[str, ...], expected: set[str]) -> tuple[str, ...]:
    """The checks of ``items_`` a known-bad variant is judged on: every one it must fail, and the untimed ones with
    something to judge (not the alert checks) that it must pass."""
    checks = [check.id for item in items_ for check in registry.for_item(item)]
    return tuple(c for c in checks if c in expected or (c not in TIMED and c not in NEEDS_ALERTS))


def test_known_bad_javascript_variants_are_judged_on_their_items_and_every_timed_check_they_must_fail():
    for variant, (judged_on, expected, _) in KNOWN_BAD_JS.items():
        checks = {check.id for item in judged_on for check in registry.for_item(item)}
        assert expected <= checks, (variant, expected - checks)
        assert set(judged_checks(judged_on, expected)) >= expected, variant
        assert set(judged_checks(judged_on, expected)) - expected, f"{variant} must pass something it is judged on"
    assert TIMED <= {check.id for item in ALL_ITEMS for check in registry.for_item(item)}, "TIMED names real checks"


#: variant -> the cause each check that flags it names (the Python adapter with the same defect names it too)
CAUSES_JS = {
    "env-credentials": "credentials-cached",
    "no-retries": "no-retries",
    "no-withdrawal-key": "no-idempotency-key",
    "logs-secret": "secret-exposed",
    "log-without-request-id": "request-id-not-logged",
    "no-failure-logs": "failures-not-logged",
    "swallows-4xx": "failure-swallowed",
}
#: The known-bad variant also run live, with its Python twin: its verdicts must be the recorded ones.
LIVE_JS = "log-without-request-id"


def expected_verdicts(variant: str, checks: tuple[str, ...], unjudged: set[str]) -> dict[str, str]:
    """What a known-bad variant judged on ``checks`` gets: each check that must flag it fails naming its cause,
    ``unjudged`` ones are not verifiable, every other one passes."""
    expected = KNOWN_BAD_JS[variant][1]
    return {c: CAUSES_JS[variant] if c in expected else recorded.NV if c in unjudged else "passed" for c in checks}


def test_every_known_bad_javascript_variant_is_recorded_with_its_cause():
    assert set(CAUSES_JS) == set(KNOWN_BAD_JS) and LIVE_JS in KNOWN_BAD_JS
    assert {f"{lang}-{v}" for v in KNOWN_BAD_JS for lang in ("node", "python")} <= set(recorded.names())


@pytest.mark.parametrize("variant", sorted(KNOWN_BAD_JS))
def test_a_known_bad_javascript_integration_fails_exactly_its_checks_as_a_python_adapter_would(variant):
    """Judged over the observations recorded from real runs of this very program and of its Python twin
    (``tests/protocol/recorded``; ``test_a_known_bad_javascript_integration_judged_live_agrees_with_its_recording``
    runs one of them live)."""
    judged_on, expected, _ = KNOWN_BAD_JS[variant]
    checks = judged_checks(judged_on, expected)
    verdicts = recorded.verdicts(f"node-{variant}", checks)
    assert verdicts == expected_verdicts(variant, checks, UNJUDGED.get(variant, set()))
    observations = recorded.load(f"node-{variant}")
    for check in sorted(expected):  # the finding every output shows names its check and item
        spec = registry.get(check)
        assert spec.judge is not None
        finding = judge(spec.judge, observations, "node")
        assert isinstance(finding, Finding), (check, finding)
        failure = finding.failure("node").stamp(spec.id, spec.item, spec.severity)
        assert f"[{check.split('.')[0]}] {check}" in str(failure)
    # the same defect written in Python is flagged by the same checks, with the same cause (judged on those checks
    # only: the rest of its items is what tests/checks proves for Python adapters)
    python = recorded.verdicts(f"python-{variant}", tuple(sorted(expected)))
    assert python == dict.fromkeys(sorted(expected), CAUSES_JS[variant]), python


def test_a_known_bad_javascript_integration_judged_live_agrees_with_its_recording(known_bad_session, node):
    """The recording path proven against a live one: the program run over the protocol gets the verdicts its
    recording gets (and the failure text every output shows), and so does its Python twin."""
    judged_on, expected, python_twin = KNOWN_BAD_JS[LIVE_JS]
    checks = judged_checks(judged_on, expected)
    texts: dict[str, str] = {}
    live = recorded.live_verdicts(known_bad_session, acme(node, LIVE_JS), checks, texts)
    assert live == recorded.verdicts(f"node-{LIVE_JS}", checks) == expected_verdicts(LIVE_JS, checks, set()), live
    assert set(texts) == expected
    for check in expected:
        assert f"[{check.split('.')[0]}] {check}" in texts[check]
    python = recorded.live_verdicts(known_bad_session, python_twin, tuple(sorted(expected)))
    assert python == recorded.verdicts(f"python-{LIVE_JS}", tuple(sorted(expected))), python


@pytest.mark.parametrize("name", recorded.names())
def test_a_program_recording_holds_exactly_the_facts_of_the_scenarios_its_checks_read(name):
    """A recording made before a scenario changed its facts, or before a program's judged checks changed, is
    re-recorded (``python -m tests.protocol.recorded.record NAME``), never judged as it is."""
    from tests.protocol.recorded.record import recordings

    _, checks, _ = recordings()[name]
    observations = recorded.load(name)
    assert tuple(observations) == recorded.scenarios(checks), name
    for scenario, observation in observations.items():
        assert set(observation.facts) | set(observation.missing) == set(SCENARIOS[scenario].facts), (name, scenario)
        assert not set(observation.facts) & set(observation.missing), (name, scenario)


def test_every_program_recording_is_one_the_recorder_makes():
    from tests.protocol.recorded.record import recordings

    assert set(recorded.names()) == set(recordings())


#: The reference as a program, on the checks that carry each part of the protocol it speaks beyond the Node
#: integration's (which passes every check over the protocol): its capabilities (request_log, alerts,
#: processed_events and webhook_url, resource_status), the credentials file re-read in the drill, an
#: Idempotency-Key kept across retries. The reference passes every check in process (tests/reference).
PYTHON_PROGRAM_CHECKS = {
    "capabilities": (
        "observability.request-log",  # request_log()
        "observability.no-secrets-in-logs",  # request_log() and alerts() scanned
        "observability.alert-429",  # alerts()
        "observability.alert-webhook-failure",  # alerts() and webhook_url
    ),
    "receiver": (
        "webhooks.end-to-end",  # webhook_url and processed_events
        "webhooks.out-of-order",  # resource_status
        "idempotency.same-key-on-retry",
        "credential-rotation.drill",  # the credentials file re-read
    ),
}


def test_the_python_programs_checks_name_real_checks_of_four_items():
    chosen = {check for group in PYTHON_PROGRAM_CHECKS.values() for check in group}
    assert chosen <= {c.id for item in ALL_ITEMS for c in registry.for_item(item)}
    assert {c.split(".")[0] for c in chosen} == {"idempotency", "webhooks", "credential-rotation", "observability"}


@pytest.mark.parametrize("group", sorted(PYTHON_PROGRAM_CHECKS))
def test_the_reference_as_a_separate_python_process_passes_like_the_reference_in_process(session, group):
    checks = PYTHON_PROGRAM_CHECKS[group]
    outcomes = run_checks(session, python_program(), checks)
    assert by_status(outcomes, "passed") == set(checks), outcomes


def test_a_program_whose_log_lines_are_coloured_is_judged_on_what_they_say(session):
    """Where the CI sets FORCE_COLOR, a logger writes a colour code around each part of a line. Before: the request
    log was failed ("logged without its X-Request-Id": ``\\bPOST\\b`` did not match ``\\x1b[1mPOST``) although the
    same program with plain lines passed; now its stderr is read as a terminal shows it."""
    checks = ["observability.request-log", "observability.failures-logged"]
    outcomes = run_checks(session, python_program("coloured-logs"), checks)
    assert by_status(outcomes, "passed") == set(checks), outcomes


@pytest.mark.parametrize(("variant", "status"), [("resource-status", "passed"), ("last-write-wins", "failed")])
def test_a_program_shows_its_receivers_state_through_resource_status(session, node, variant, status):
    """webhooks.out-of-order judges the state part only through resource_status (protocol capability): the Node
    receiver that orders events by their timestamp passes; one that lets the last event received win fails."""
    outcome = run_all(session, acme(node, variant), ("webhooks",), only=("webhooks.out-of-order",))
    assert outcome["webhooks.out-of-order"].startswith(status), outcome
    if status == "failed":
        assert "the order is 'accepted', not 'filled'" in outcome["webhooks.out-of-order"]


def test_a_program_that_crashes_mid_run_is_broken_with_its_exit_status_and_stderr(session):
    session.factory = python_program("crash-on-deposit")
    with pytest.raises(ProgramBroken) as caught:
        session.run(registry.get("idempotency.key-on-every-transfer"))
    assert "exited (exit status 3)" in str(caught.value)
    assert "FATAL: deposit handler crashed (simulated)" in str(caught.value)


@pytest.mark.parametrize(
    ("variant", "message"),
    [
        ("garbage", "not a JSON-RPC response to stdout .*Starting acme-bluum adapter"),
        ("protocol-2", "speaks protocol 2; this suite speaks protocol 1"),
    ],
)
def test_a_program_that_breaks_the_protocol_is_broken_at_once(session, variant, message):
    session.factory = python_program(variant)
    started = time.monotonic()
    with pytest.raises(ProgramBroken, match=message):
        session.run(registry.get("credentials.secret-source"))
    assert time.monotonic() - started < 10


def test_a_program_that_hangs_never_hangs_the_suite(session, monkeypatch):
    monkeypatch.setattr(adapter, "SHUTDOWN_TIMEOUT_S", 0.2)  # the bound is what matters here, not its 2 s
    with session.harness() as h:
        h.factory = python_program("hang")
        integration = h.integration()
        started = time.monotonic()
        outcome = call(lambda: integration.kyc_status("inv_1"), timeout=0.3)
        assert not outcome.finished and time.monotonic() - started < 2
        pid = integration.pid
        closing = time.monotonic()
    # closed with the harness: shutdown unanswered (0.2 s), stdin closed, then its process group ended (0.2 s)
    assert time.monotonic() - closing < 4
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def test_a_secret_a_program_writes_to_stderr_is_reported_there(session, node):
    session.factory = acme(node, "logs-secret")
    with pytest.raises(AssertionError) as caught:
        session.run(registry.get("error-handling.secret-never-logged"))
    assert caught.value.evidence["where"] == ["the program's stderr"], caught.value  # type: ignore[attr-defined]


def test_a_programs_stderr_is_kept_once_it_exited_without_waiting_for_it_to_go_quiet(session, node, monkeypatch):
    """A check's evidence keeps the end of the program's stderr: read after the program exited (its stderr is then
    complete), not by waiting 50 ms for it to go quiet while it still runs — a fixed cost on every program check."""
    from bluum_readiness.protocol.program import OutputLog

    settled_after_exit: list[bool] = []
    settle = OutputLog.settle

    def recording(self: OutputLog, *args: Any, **kwargs: Any) -> None:
        settled_after_exit.append(self.closed.is_set())
        settle(self, *args, **kwargs)

    monkeypatch.setattr(OutputLog, "settle", recording)
    session.factory = acme(node)
    evidence: dict[str, Any] = {}
    session.run(registry.get("credentials.secret-source"), evidence)
    [kept] = evidence["integration_stderr"]
    assert kept["lines"] > 0 and kept["tail"], kept
    assert settled_after_exit and settled_after_exit[-1] is True, settled_after_exit


def test_closing_a_harness_again_closes_only_what_came_since(session, node):
    h = session.harness()
    done: list[str] = []
    h.on_close(lambda: done.append("first"))
    h.factory = acme(node)
    first = h.integration()
    h.close()
    h.on_close(lambda: done.append("second"))
    h.close()
    assert done == ["first", "second"]
    assert first._program.returncode is not None  # it exited at the first close


def test_a_program_that_used_fetch_exits_at_once_when_the_suite_is_done_with_it(session, node):
    """Node's fetch parses HTTP with a WebAssembly module that V8 compiles again with its optimising tier in the
    background, and a process's exit waits for that compile: ~0.2 s at the end of every check of a Node program that
    used fetch. The starter's runtime keeps V8 on its baseline WebAssembly compiler: its exit takes milliseconds. Up
    to three exits timed, the fastest counting (a loaded machine can hold one)."""

    def answered(integration: Any) -> None:
        with pytest.raises(OperationFailed, match="inv_unknown"):  # answered: 404, parsed by fetch
            integration.kyc_status("inv_unknown")

    with session.harness() as h:
        h.factory = acme(node)
        times = exit_times(h, within_s=0.1, first=answered)
    assert min(times) < 0.1, times


def exit_times(h: Any, within_s: float, first: Callable[[Any], None] = lambda integration: None) -> list[float]:
    """How long each of up to three programs the harness starts takes to exit once told to shut down (after
    ``first`` used it), stopping at the first under ``within_s``."""
    times: list[float] = []
    for _ in range(3):
        integration = h.integration()
        first(integration)
        program = integration._program
        assert program.request("shutdown", {}, 5.0).error is None
        closing = time.monotonic()
        program.terminate(5.0)
        times.append(time.monotonic() - closing)
        if times[-1] < within_s:
            break
    return times
