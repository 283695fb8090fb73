"""Every check discriminates: each known-bad integration is flagged by exactly the checks named for it, and
correct integrations — the reference, and ones built differently — pass every check."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bluum_readiness.checks import registry
from bluum_readiness.failures import ConformanceFailure, NotVerifiable
from bluum_readiness.integration import IntegrationEnv, load_factory
from bluum_readiness.suite.session import SuiteSession
from tests.integrations import variants

CHECKED_ITEMS = ("idempotency", "error-handling")


@pytest.fixture(scope="module")
def session() -> Iterator[SuiteSession]:
    s = SuiteSession.embedded("bluum_readiness.reference:create_fast")
    yield s
    s.close()


def run_all(session: SuiteSession, factory: Callable[[IntegrationEnv], Any], items: tuple[str, ...]) -> dict[str, str]:
    """Run every check of ``items`` against the integration; check id -> outcome (and failure text)."""
    session.factory = factory
    outcomes: dict[str, str] = {}
    for item in items:
        for check in registry.for_item(item):
            try:
                session.run(check)
            except ConformanceFailure as exc:
                outcomes[check.id] = f"{'failed' if exc.severity == 'required' else 'advisory'}: {exc}"
            except NotVerifiable as exc:
                outcomes[check.id] = f"not_verifiable: {exc.reason}"
            else:
                outcomes[check.id] = "passed"
    return outcomes


def _failed(outcomes: dict[str, str]) -> set[str]:
    return {check for check, outcome in outcomes.items() if outcome.startswith("failed")}


def test_every_check_of_these_items_is_exercised_by_a_known_bad_integration():
    flagged = set().union(*(expected for _, expected in variants.KNOWN_BAD.values()))
    checks = {c.id for item in CHECKED_ITEMS for c in registry.for_item(item) if c.severity == "required"}
    assert checks <= flagged, f"checks with no known-bad integration proving they catch anything: {checks - flagged}"


def seeded_reference(env: IntegrationEnv) -> Any:
    """The reference with a seeded jitter source, so statistical checks are repeatable in our own tests."""
    return load_factory("bluum_readiness.reference:create_fast")(env, rng=random.Random(20261125))  # type: ignore[call-arg]


@pytest.mark.parametrize(
    "factory", [seeded_reference, variants.correct_different], ids=["reference", "correct-but-different"]
)
def test_correct_integrations_pass_every_check(session, factory):
    outcomes = run_all(session, factory, CHECKED_ITEMS)
    assert all(o == "passed" for o in outcomes.values()), outcomes


@pytest.mark.parametrize("name", sorted(variants.KNOWN_BAD))
def test_known_bad_integration_is_flagged_by_exactly_its_checks(session, name):
    factory, expected = variants.KNOWN_BAD[name]
    items = tuple(sorted({check.split(".")[0] for check in expected}))
    outcomes = run_all(session, factory, items)
    assert _failed(outcomes) == expected, outcomes
    for check in expected:
        assert f"[{check.split('.')[0]}] {check}" in outcomes[check]


@pytest.mark.parametrize(
    ("name", "source"),
    [
        ("logs_the_secret", "Python logging"),
        ("secret_in_exceptions", "the exception raised by deposit()"),
        ("secret_in_request_log", "request_log()"),
    ],
)
def test_a_leaked_secret_is_reported_where_it_leaked(session, name, source):
    factory, _ = variants.KNOWN_BAD[name]
    session.factory = factory
    with pytest.raises(ConformanceFailure) as caught:
        session.run(registry.get("error-handling.secret-never-logged"))
    assert caught.value.evidence["where"] == [source], caught.value.observed
    assert f"({source})" in caught.value.observed


def test_an_operation_reported_failed_after_the_target_committed_it_is_a_finding(session):
    factory, _ = variants.KNOWN_BAD["no_retry_on_timeout"]
    session.factory = factory
    with pytest.raises(ConformanceFailure) as caught:
        session.run(registry.get("idempotency.exactly-once"))
    assert "committed at the target but reported as a failure" in caught.value.observed
    assert "41.00" in caught.value.observed  # the first storm deposit: its response was withheld after the commit


def test_no_request_timeout_is_named(session):
    factory, _ = variants.KNOWN_BAD["no_request_timeout"]
    session.factory = factory
    with pytest.raises(ConformanceFailure) as caught:
        session.run(registry.get("error-handling.request-timeout"))
    assert "no request timeout" in caught.value.observed
