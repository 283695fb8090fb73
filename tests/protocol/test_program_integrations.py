"""The whole suite on integrations that are programs: a Node team's client (correct, and known-bad variants that
fail exactly their items — the same checks a Python adapter with the same defect fails), the reference as a
separate Python process (a second language for the protocol), and programs that crash, hang or break the
protocol (harness errors, never hangs)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import psutil
import pytest

from bluum_readiness.catalog import items
from bluum_readiness.checks import registry
from bluum_readiness.checks._support import call
from bluum_readiness.failures import NotVerifiable
from bluum_readiness.integration import IntegrationEnv
from bluum_readiness.protocol import ProgramBroken, ProgramFactory
from bluum_readiness.suite.session import SuiteSession
from tests.checks.test_discrimination import run_all
from tests.integrations import variants
from tests.integrations.configurable import ConfigurableIntegration, LogsOnly
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


def test_a_correct_javascript_integration_passes_everything_it_can_be_judged_on(session, node):
    outcomes = run_all(session, acme(node), ALL_ITEMS)
    assert by_status(outcomes, "not_verifiable") == NEEDS_ALERTS, outcomes
    assert by_status(outcomes, "passed") == set(outcomes) - NEEDS_ALERTS, outcomes
    assert "observability.request-log" in by_status(outcomes, "passed")  # from its JSON lines on stderr
    assert not [p for p in psutil.Process().children(recursive=True) if "acme_adapter" in " ".join(p.cmdline())]


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
        },
        python_with(max_attempts=1),
    ),
    "no-withdrawal-key": (
        ("idempotency", "lifecycle"),
        # lifecycle.error-paths: its withdrawal "above the balance" is refused for the missing key, not the balance
        {
            "idempotency.key-on-every-transfer",
            "lifecycle.full-journey",
            "lifecycle.webhook-events",
            "lifecycle.error-paths",
        },
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


@pytest.mark.parametrize("variant", sorted(KNOWN_BAD_JS))
def test_a_known_bad_javascript_integration_fails_exactly_its_checks_as_a_python_adapter_would(session, node, variant):
    judged_on, expected, python_twin = KNOWN_BAD_JS[variant]
    outcomes = run_all(session, acme(node, variant), judged_on)
    assert by_status(outcomes, "failed") == expected, outcomes
    for check in expected:
        assert f"[{check.split('.')[0]}] {check}" in outcomes[check]
    # the same defect written in Python is flagged by the same checks (run on those checks only: the rest of its
    # items is what tests/checks proves for Python adapters)
    session.factory = python_twin
    python: dict[str, str] = {}
    for check_id in sorted(expected):
        try:
            session.run(registry.get(check_id))
        except AssertionError:
            python[check_id] = "failed"
        except NotVerifiable:  # e.g. this Python adapter serves no webhook receiver
            python[check_id] = "not_verifiable"
        else:
            python[check_id] = "passed"
    assert (
        {check for check, status in python.items() if status == "failed"}
        == {check for check, status in python.items() if status != "not_verifiable"}
        != set()
    ), python


def test_the_reference_as_a_separate_python_process_passes_like_the_reference_in_process(session):
    judged_on = ("idempotency", "webhooks", "credential-rotation", "observability")
    outcomes = run_all(session, python_program(), judged_on)
    assert by_status(outcomes, "passed") == set(outcomes), outcomes
    assert len(outcomes) == sum(len(registry.for_item(item)) for item in judged_on)


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


def test_a_program_that_hangs_never_hangs_the_suite(session):
    with session.harness() as h:
        h.factory = python_program("hang")
        integration = h.integration()
        started = time.monotonic()
        outcome = call(lambda: integration.kyc_status("inv_1"), timeout=0.3)
        assert not outcome.finished and time.monotonic() - started < 2
        pid = integration.pid
        closing = time.monotonic()
    # closed with the harness: shutdown unanswered (2 s), stdin closed, then its process group ended (2 s)
    assert time.monotonic() - closing < 8
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def test_a_secret_a_program_writes_to_stderr_is_reported_there(session, node):
    session.factory = acme(node, "logs-secret")
    with pytest.raises(AssertionError) as caught:
        session.run(registry.get("error-handling.secret-never-logged"))
    assert caught.value.evidence["where"] == ["the program's stderr"], caught.value  # type: ignore[attr-defined]
