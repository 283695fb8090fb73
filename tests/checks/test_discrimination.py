"""Every check discriminates: each known-bad integration is flagged by exactly the checks named for it, and
correct integrations — the reference, and ones built differently — pass every check.

The checks run in virtual time (an ``InProcessProxy``: backoff, Retry-After and timeouts cost no real seconds);
``test_virtual_time_judges_as_the_socket_proxy_does`` runs the timing checks over the real ``ProxyServer`` too and
requires the same outcomes."""

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
    s = SuiteSession.embedded("bluum_readiness.reference:create_fast", virtual_time=True)
    yield s
    s.close()


@pytest.fixture(scope="module")
def socket_session() -> Iterator[SuiteSession]:
    s = SuiteSession.embedded("bluum_readiness.reference:create_fast")
    yield s
    s.close()


def run_all(
    session: SuiteSession,
    factory: Callable[..., Any],
    items: tuple[str, ...],
    only: tuple[str, ...] | None = None,
) -> dict[str, str]:
    """Run every check of ``items`` (or just those in ``only``) against the integration; check id -> outcome (and
    failure text)."""
    session.factory = factory
    outcomes: dict[str, str] = {}
    for item in items:
        for check in registry.for_item(item):
            if only is not None and check.id not in only:
                continue
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


def seeded_reference(env: IntegrationEnv, **options: Any) -> Any:
    """The reference with a seeded jitter source, so statistical checks are repeatable in our own tests."""
    return load_factory("bluum_readiness.reference:create_fast")(env, rng=random.Random(20261125), **options)  # type: ignore[call-arg]


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


def test_no_retries_at_all_reads_as_one_cause(session):
    """The client with no retries at all fails five error-handling checks, each naming the cause "no-retries"; the
    Retry-After check says it could not tell whether Retry-After is honoured."""
    factory, expected = variants.KNOWN_BAD["no_retries_at_all"]
    session.factory = factory
    causes = {}
    for check in sorted(c for c in expected if c.startswith("error-handling.")):
        with pytest.raises(ConformanceFailure) as caught:
            session.run(registry.get(check))
        causes[check] = caught.value.cause
        if check.endswith("retry-after"):
            assert "never retried after the 429, so whether it honours Retry-After could not be judged" in str(
                caught.value
            )
    assert set(causes.values()) == {"no-retries"}, causes


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


# The checks whose verdicts rest on time: waits between attempts, Retry-After, timeouts, held responses.
TIMED = (
    "error-handling.429-backoff-grows",
    "error-handling.429-jitter",
    "error-handling.429-retry-after",
    "error-handling.backoff-between-retries",
    "error-handling.timeout-retried",
    "error-handling.request-timeout",
    "idempotency.same-key-on-retry",
    "idempotency.exactly-once",
)


def _status(outcome: str) -> str:
    return outcome.split(":", 1)[0]


# What each parity case runs over both placements: the reference every timing check (it must pass them all in
# both), each known-bad the timing checks that must flag it (no_backoff also the jitter check, which cannot judge
# waits of nothing in either placement). Over sockets these cost real seconds, so they are kept to these.
PARITY: dict[str, tuple[str, ...]] = {
    "reference": TIMED,
    "no_backoff": (
        "error-handling.429-backoff-grows",
        "error-handling.429-jitter",
        "error-handling.backoff-between-retries",
    ),
    "no_jitter": ("error-handling.429-jitter",),
    "ignores_retry_after": ("error-handling.429-retry-after",),
    "no_retry_on_timeout": ("error-handling.timeout-retried", "idempotency.exactly-once"),
    "no_request_timeout": ("error-handling.request-timeout",),
}


@pytest.mark.parametrize("name", sorted(PARITY))
def test_virtual_time_judges_as_the_socket_proxy_does(session, socket_session, name):
    """The same integration, judged by the timing checks through the real ProxyServer (real sleeps, real
    timeouts) and in virtual time, gets the same outcome from each of them — and the expected one."""
    factory, expected = (seeded_reference, set()) if name == "reference" else variants.KNOWN_BAD[name]
    checks = PARITY[name]
    over_sockets = run_all(socket_session, factory, CHECKED_ITEMS, only=checks)
    in_virtual_time = run_all(session, factory, CHECKED_ITEMS, only=checks)
    assert set(over_sockets) == set(checks)
    assert {c: _status(o) for c, o in in_virtual_time.items()} == {c: _status(o) for c, o in over_sockets.items()}, (
        over_sockets,
        in_virtual_time,
    )
    assert _failed(over_sockets) == expected & set(checks), over_sockets
    if name == "no_backoff":
        assert _status(over_sockets["error-handling.429-jitter"]) == "not_verifiable", over_sockets


def test_growth_within_scheduling_noise_is_not_backoff(session):
    """Waits that grow x4 but only by about 2 ms (base 0.5 ms) are scheduling noise, not backoff: flagged — over
    sockets a no-backoff integration's noise (0.7 → 0.9 ms) would otherwise pass as growth now and then."""
    timid = variants._factory(variants.GOOD.but(base_s=0.0005))
    outcomes = run_all(session, timid, ("error-handling",), only=("error-handling.429-backoff-grows",))
    assert _status(outcomes["error-handling.429-backoff-grows"]) == "failed", outcomes
    assert "by at least 5 ms" in outcomes["error-handling.429-backoff-grows"]


def test_one_scheduling_stall_does_not_make_waits_of_nothing_judgeable_for_jitter(session):
    """An integration that never waits, but whose retries meet one 0.1 s stall (a loaded machine, over sockets),
    is still too quick to judge for jitter: not verifiable, as without the stall, never "jittered" — the check
    reads the typical (median) wait per retry, which the stall of one trial does not move."""
    no_backoff, _ = variants.KNOWN_BAD["no_backoff"]

    def stalling(env: IntegrationEnv, *, sleep: Any, **options: Any) -> Any:
        waits = iter(range(10_000))
        return no_backoff(env, sleep=lambda s: sleep(s + (0.1 if next(waits) == 5 else 0.0)), **options)

    only = ("error-handling.429-jitter",)
    outcomes = run_all(session, stalling, ("error-handling",), only=only)
    assert _status(outcomes["error-handling.429-jitter"]) == "not_verifiable", outcomes


def test_growth_and_jitter_judge_one_set_of_trials_per_integration(session):
    """429-backoff-grows and 429-jitter judge the same backoff trials: observed once per session and integration
    factory for the checks that read them (a run waits them out once), observed again for another factory, or when a
    check that already read them runs again — also when what they saw fails both (the judges read one observation;
    each finding shows its exchanges)."""
    both = ("error-handling.429-backoff-grows", "error-handling.429-jitter")
    trials = session.config.thresholds.backoff_trials

    def faulted_429s(factory: Callable[..., Any]) -> tuple[dict[str, str], int]:
        mark = len(session.proxy.exchanges(settle=0))
        outcomes = run_all(session, factory, ("error-handling",), only=both)
        return outcomes, len([x for x in session.proxy.exchanges()[mark:] if x.status == 429])

    def fresh(env: IntegrationEnv, **options: Any) -> Any:
        return seeded_reference(env, **options)

    outcomes, answered = faulted_429s(fresh)
    assert {_status(o) for o in outcomes.values()} == {"passed"} and answered == trials * 3, (outcomes, answered)
    assert faulted_429s(fresh)[1] == trials * 3  # the same checks again: each observes anew, the world may differ
    observed, judged = {}, {}  # evidence: the check that reads the trials later shows what it judged
    session.factory = lambda env, **options: fresh(env, **options)
    session.run(registry.get(both[0]), evidence=observed)
    session.run(registry.get(both[1]), evidence=judged)
    assert "shared_observation" not in observed and judged["shared_observation"]["name"] == "backoff-429"
    for field in ("exchanges", "fault_plans", "backoff"):
        assert judged[field] == observed[field] and observed[field], field
    assert len([x for x in judged["exchanges"] if x["status"] == 429]) == trials * 3
    assert faulted_429s(lambda env, **options: fresh(env, **options))[1] == trials * 3  # another one: its own

    never_retried = variants._factory(variants.GOOD.but(retry_statuses=frozenset()))
    outcomes, answered = faulted_429s(never_retried)
    assert {_status(o) for o in outcomes.values()} == {"failed"}, outcomes
    assert answered == 1, answered  # one attempt, seen once: both judges read it
    assert all("no-retries" in o or "never retried" in o for o in outcomes.values()), outcomes
