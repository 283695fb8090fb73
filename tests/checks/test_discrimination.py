"""Every check discriminates: each known-bad integration is flagged by exactly the checks named for it, and
correct integrations — the reference, and ones built differently — pass every check.

Live here, in virtual time (an ``InProcessProxy``: backoff, Retry-After and timeouts cost no real seconds): the
correct integrations on every check, and the known-bad ones of ``LIVE``, whose live verdicts must equal those of
their recordings. Every known-bad client is judged over observations recorded from a real run of it (over sockets)
by ``test_variant_judges.py``: exactly its checks, naming its cause.

Over the real ``ProxyServer`` (real sleeps, real timeouts): the parity test runs the backoff checks and requires the
outcomes of virtual time; the checks whose scenarios mostly wait are run over it, side by side, by
``tests/suite/test_prelude.py``, and here in virtual time against the same integrations, with the same outcomes
required."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bluum_readiness.checks import registry
from bluum_readiness.failures import ConformanceFailure, NotVerifiable
from bluum_readiness.integration import IntegrationEnv, load_factory
from bluum_readiness.suite.session import SuiteSession
from tests.checks import recorded
from tests.checks import test_variant_judges as recorded_variants
from tests.integrations import variants
from tests.protocol.recorded import live_verdicts
from tests.suite import test_prelude

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


#: Known-bad clients judged live on every check of their items: the one without retries (both items, one cause) and
#: the one without keys (idempotency). Their live verdicts equal their recordings' (which ``test_variant_judges.py``
#: requires to be exactly their checks, naming their cause).
LIVE = ("no_key", "no_retries_at_all")


@pytest.mark.parametrize("name", LIVE)
def test_a_known_bad_client_judged_live_agrees_with_its_recording(session, name):
    factory, expected = variants.KNOWN_BAD[name]
    items = recorded_variants.items_of(expected)
    texts: dict[str, str] = {}
    live = live_verdicts(session, factory, [c.id for item in items for c in registry.for_item(item)], texts)
    assert live == recorded_variants.verdicts(name, items), live
    for check in expected:
        assert f"[{check.split('.')[0]}] {check}" in texts[check]


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


BACKOFF = (
    "error-handling.429-backoff-grows",
    "error-handling.429-jitter",
    "error-handling.backoff-between-retries",
)

# What each parity case runs over both placements: the reference the backoff checks (it must pass them in both),
# each known-bad the backoff checks that must flag it (no_backoff also the jitter check, which cannot judge waits of
# nothing in either placement). Over sockets these cost real seconds, so they are kept to these; the other timing
# checks are those observed side by side (WAITING), over sockets in test_prelude.py.
PARITY: dict[str, tuple[str, ...]] = {
    "reference": BACKOFF,
    "no_backoff": BACKOFF,
    "no_jitter": ("error-handling.429-jitter",),
}
WAITING = tuple(c for c in TIMED if c not in BACKOFF)


def test_every_timing_check_is_run_over_sockets_here_or_side_by_side():
    assert set(WAITING) <= set(test_prelude.WAITING_CHECKS) and "reference" in test_prelude.CASES
    assert set(TIMED) == set(WAITING) | {c for checks in PARITY.values() for c in checks}


@pytest.mark.parametrize("name", sorted(PARITY))
def test_virtual_time_judges_as_the_socket_proxy_does(session, socket_session, name):
    """The same integration, judged by the backoff checks through the real ProxyServer (real sleeps) and in virtual
    time, gets the same outcome from each of them — and the expected one."""
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


@pytest.mark.parametrize("name", sorted(set(test_prelude.CASES) & set(variants.KNOWN_BAD)))
def test_virtual_time_judges_the_waiting_checks_as_the_socket_proxy_does_side_by_side(session, name):
    """The timing checks whose scenarios mostly wait, in virtual time, against the known-bad integrations that
    test_prelude.py judges over the real ProxyServer (side by side: real Retry-After, withheld responses, held
    requests), reach the outcome required there — flagged by exactly its checks, every other one passed — each
    naming the cause its recording names."""
    factory, expected = variants.KNOWN_BAD[name]
    checks = test_prelude.WAITING_CHECKS
    live = live_verdicts(session, factory, checks)
    assert {c for c, v in live.items() if v != "passed"} == expected & set(checks), live
    judged = recorded.verdicts(recorded_variants.load(name), [registry.get(c) for c in checks])
    assert judged and live.items() >= judged.items(), (live, judged)  # on the checks of the items it was recorded for


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
