"""The prelude of a serial run (suite/prelude.py): the scenarios that mostly wait, observed side by side.

Over real sockets, against the embedded twin: observed side by side, every judge of them reaches the verdict it
reaches when its check observes alone — the reference and a correct client built differently pass, each known-bad
integration is flagged by exactly its checks — and the evidence says how the observation was made.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest

from bluum_readiness.checks import registry
from bluum_readiness.checks.observation import SCENARIOS, Scenario, Scene
from bluum_readiness.reference import create_fast
from bluum_readiness.suite.prelude import observe_side_by_side, side_by_side_scenarios
from bluum_readiness.suite.session import SuiteSession
from tests.checks.judging import run_checks
from tests.integrations.variants import KNOWN_BAD, correct_different

# The checks whose scenarios are observed side by side, in the checklist's order.
WAITING_CHECKS = (
    "idempotency.same-key-on-retry",
    "idempotency.exactly-once",
    "error-handling.429-bounded",
    "error-handling.429-retry-after",
    "error-handling.request-timeout",
    "error-handling.timeout-retried",
)
SIDE_BY_SIDE = {"retried-deposits", "storm", "persistent-429", "retry-after", "hung-request", "timeout-once"}


@pytest.fixture(scope="module")
def session() -> Iterator[SuiteSession]:
    s = SuiteSession.embedded("bluum_readiness.reference:create_fast")
    yield s
    s.close()


def test_the_scenarios_observed_side_by_side_are_those_that_mostly_wait() -> None:
    checks = list(registry)
    chosen = side_by_side_scenarios(checks)
    assert {s.name for s in chosen} == SIDE_BY_SIDE
    assert [s.name for s in side_by_side_scenarios([registry.get("error-handling.429-retry-after")])] == ["retry-after"]
    # none of them reads a log, the credentials or the webhooks the other checks share
    assert not any(fact in {"log", "secrets", "sources"} for s in chosen for fact in s.facts)


#: The integrations observed side by side over sockets, and the waiting checks that must flag each.
CASES: dict[str, tuple[Callable[..., Any], set[str]]] = {
    "reference": (create_fast, set()),
    "correct_different": (correct_different, set()),
    "ignores_retry_after": KNOWN_BAD["ignores_retry_after"],
    "new_key_per_retry": KNOWN_BAD["new_key_per_retry"],
    "no_request_timeout": KNOWN_BAD["no_request_timeout"],
    "no_retry_on_timeout": KNOWN_BAD["no_retry_on_timeout"],
}
RETRY_AFTER = "error-handling.429-retry-after"


@dataclass
class SideBySideRun:
    """One integration's side-by-side prelude in a session of its own, and its waiting checks judged after it:
    the scenarios observed, each check's outcome and evidence, and (``again``) the evidence of the Retry-After
    check run a second time."""

    observed: list[str]
    outcomes: dict[str, str]
    evidence: dict[str, dict[str, Any]]
    again: dict[str, Any]


def _observe_side_by_side_and_judge(factory: Callable[..., Any], read_again: bool) -> SideBySideRun:
    session = SuiteSession.embedded("bluum_readiness.reference:create_fast")
    try:
        session.factory = factory
        observed = observe_side_by_side(session, side_by_side_scenarios(registry.get(c) for c in WAITING_CHECKS))
        evidence: dict[str, dict[str, Any]] = {}
        outcomes = run_checks(session, factory, WAITING_CHECKS, evidence)
        again: dict[str, Any] = {}
        if read_again:  # read again by the same check: it observes again, on its own
            session.run(registry.get(RETRY_AFTER), again)
        return SideBySideRun(observed, outcomes, evidence, again)
    finally:
        session.close()


def _side_by_side_runs() -> dict[str, SideBySideRun]:
    """Every case of ``CASES``, each in a session of its own (its own twin and proxies), the sessions side by side:
    what they do is wait (Retry-After: 1, withheld responses, held requests), and no scenario observed side by side
    judges statistics of its timings, so waiting together never makes a wait shorter — one case's verdicts are those
    it reaches alone."""
    with ThreadPoolExecutor(max_workers=len(CASES), thread_name_prefix="prelude-case") as pool:
        futures = {
            name: pool.submit(_observe_side_by_side_and_judge, factory, name == "reference")
            for name, (factory, _) in CASES.items()
        }
        return {name: future.result() for name, future in futures.items()}


def test_observed_side_by_side_every_judge_reaches_its_verdict_and_shows_how() -> None:
    """Each integration of ``CASES``: every scenario observed side by side, each waiting check judging that
    observation, flagged by exactly its checks, every other passed. And a check shows that its observation was made
    side by side (beside which scenarios, in how long); read again, it observes again, on its own. One test: its
    cases run side by side, once (as parametrized tests, xdist could run them on both workers)."""
    runs = _side_by_side_runs()
    for name, (_, flagged) in CASES.items():
        run = runs[name]
        assert set(run.observed) == SIDE_BY_SIDE, (name, run.observed)
        outcomes = run.outcomes
        failed = {check for check, outcome in outcomes.items() if outcome.startswith("failed")}
        assert failed == flagged & set(WAITING_CHECKS), (name, outcomes)
        assert all(outcome == "passed" for check, outcome in outcomes.items() if check not in flagged), (name, outcomes)
        for check in WAITING_CHECKS:  # each judged the observation made side by side, not one of its own
            assert "side by side" in run.evidence[check]["shared_observation"]["note"], (name, check)

    reference = runs["reference"]
    evidence = reference.evidence[RETRY_AFTER]
    assert sorted(evidence["side_by_side"]["beside"]) == sorted(SIDE_BY_SIDE - {"retry-after"})
    assert evidence["side_by_side"]["observed_in_s"] >= 0.95  # Retry-After: 1 was waited out
    assert [x["status"] for x in evidence["exchanges"]][:2] == [429, 200]
    # read again by the same check: it observes again, on its own
    assert "shared_observation" not in reference.again and "side_by_side" not in reference.again
    assert [x["status"] for x in reference.again["exchanges"]][:2] == [429, 200]


def test_a_scenario_that_fails_side_by_side_is_left_to_its_check(session: SuiteSession) -> None:
    def breaks(s: Scene) -> None:
        raise RuntimeError("the scenario broke")

    def investor(s: Scene) -> None:  # a scenario that works (against the twin, through its own proxy)
        s.fact("x", s.h.active_investor())

    session.factory = create_fast
    broken = Scenario("breaks-side-by-side", ("x",), breaks, side_by_side=True)
    works = Scenario("works-side-by-side", ("x",), investor, side_by_side=True)
    assert observe_side_by_side(session, [broken, works]) == ["works-side-by-side"]
    assert not any(key[0] == broken.name for key in session._observations)
    assert any(key[0] == works.name for key in session._observations)


def test_nothing_is_observed_side_by_side_in_virtual_time() -> None:
    s = SuiteSession.embedded("bluum_readiness.reference:create_fast", virtual_time=True)
    try:
        assert observe_side_by_side(s, [SCENARIOS["retry-after"], SCENARIOS["persistent-429"]]) == []
    finally:
        s.close()


def test_every_integration_is_started_before_any_scenario_begins(session: SuiteSession) -> None:
    """A program starting (a JVM, say) never competes with another scenario's timed wait."""
    events: list[str] = []

    def factory(env: Any) -> Any:
        events.append("made")
        return create_fast(env)

    def drive(s: Scene) -> None:
        events.append("began")
        s.fact("x", s.integration is not None)

    session.factory = factory
    scenarios = [Scenario(f"starts-{n}", ("x",), drive, side_by_side=True) for n in range(3)]
    assert sorted(observe_side_by_side(session, scenarios)) == [s.name for s in scenarios]
    assert events == ["made"] * 3 + ["began"] * 3, events


def test_the_lifecycle_runs_beside_the_prelude_and_every_other_check_waits_for_it(session: SuiteSession) -> None:
    import threading

    from bluum_readiness.suite.prelude import start_side_by_side

    release = threading.Event()

    def held(s: Scene) -> None:
        assert release.wait(30)
        s.fact("x", True)

    session.factory = create_fast
    prelude = start_side_by_side(session, [Scenario(f"held-{n}", ("x",), held, side_by_side=True) for n in range(2)])
    assert prelude is not None
    session.prelude = prelude
    journey: dict[str, Any] = {}
    session.run(registry.get("lifecycle.full-journey"), journey)  # while the prelude is held
    assert session.prelude is prelude and prelude.running
    assert "waited_for_side_by_side_s" not in journey
    release.set()
    other: dict[str, Any] = {}
    session.run(registry.get("error-handling.400-not-retried"), other)
    assert session.prelude is None and not prelude.running
    assert "waited_for_side_by_side_s" in other
    assert sorted(prelude.wait()) == ["held-0", "held-1"]


def test_a_session_that_closes_early_waits_only_so_long_for_the_prelude(monkeypatch: pytest.MonkeyPatch) -> None:
    """A run stopped during the prelude (Ctrl-C) does not wait out a scenario's whole bound."""
    import threading

    from bluum_readiness.suite import session as session_module
    from bluum_readiness.suite.prelude import start_side_by_side

    release = threading.Event()

    def held(s: Scene) -> None:
        release.wait(30)
        s.fact("x", True)

    monkeypatch.setattr(session_module, "PRELUDE_CLOSE_GRACE_S", 0.05)
    s = SuiteSession.embedded("bluum_readiness.reference:create_fast")
    try:
        prelude = start_side_by_side(s, [Scenario(f"held-long-{n}", ("x",), held, side_by_side=True) for n in range(2)])
        assert prelude is not None
        s.prelude = prelude
        assert prelude.wait(timeout=0.05) == [] and prelude.running
        s.close()  # returns although the scenarios are still held
        assert s.prelude is None and prelude.running
        assert all(thread.daemon for thread in prelude._threads)
    finally:
        release.set()
        s.close()
