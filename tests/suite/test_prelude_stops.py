"""A prelude (suite/prelude.py) that must stop: a run stopping early starts nothing more side by side, and a program
that broke the adapter protocol side by side stops the run at the next check, without waiting for the others.

In process, against the embedded twin (each scenario on its own socket proxy); the whole command with a real
broken program is tests/cli/test_run_exec.py."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bluum_readiness.checks import registry
from bluum_readiness.checks.observation import Scenario, Scene
from bluum_readiness.protocol.program import ProgramBroken, ProgramShutDown
from bluum_readiness.reference import create_fast
from bluum_readiness.suite.prelude import Prelude, start_side_by_side
from bluum_readiness.suite.session import SuiteSession

BOUND_S = 30.0  # only a hang reaches it


@pytest.fixture
def session() -> Iterator[SuiteSession]:
    s = SuiteSession.embedded("bluum_readiness.reference:create_fast")
    yield s
    s.close()


def _side_by_side(session: SuiteSession, drives: dict[str, Callable[[Scene], None]]) -> Prelude:
    """The prelude observing one scenario per entry (name -> how it drives), each reading the fact ``x``, with the
    reference integration."""
    session.factory = create_fast
    prelude = start_side_by_side(
        session, [Scenario(name, ("x",), drive, side_by_side=True) for name, drive in drives.items()]
    )
    assert prelude is not None
    return prelude


def test_a_session_closing_early_stops_the_prelude_and_no_scenario_begins_after(
    session: SuiteSession,
) -> None:
    """Ctrl-C while the prelude's integrations start (a program each): closing stops it, so the scenarios waiting
    for the others' integrations never begin."""
    starting, release = threading.Event(), threading.Event()
    made: list[str] = []
    began: list[str] = []

    def factory(env: Any) -> Any:
        if not made:
            made.append("first")
            starting.set()
            assert release.wait(BOUND_S)  # the first integration is still starting when the run stops
        else:
            made.append("other")
        return create_fast(env)

    def drive(s: Scene) -> None:
        began.append("began")
        s.fact("x", True)

    session.factory = factory
    scenarios = [Scenario(f"starting-{n}", ("x",), drive, side_by_side=True) for n in range(3)]
    prelude = start_side_by_side(session, scenarios)
    assert prelude is not None
    session.prelude = prelude
    assert starting.wait(BOUND_S)
    closing = threading.Thread(target=session.close)
    closing.start()
    deadline = time.monotonic() + BOUND_S
    while not prelude.stopping.is_set() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert prelude.stopping.is_set(), "closing stops the prelude"
    release.set()
    closing.join(BOUND_S)
    prelude.join(BOUND_S)
    assert not prelude.running
    assert began == [], "no scenario begins once the run is stopping"
    assert prelude.wait(0) == []


def test_a_program_broken_side_by_side_stops_the_run_at_the_next_check_without_waiting_for_the_others(
    session: SuiteSession,
) -> None:
    holding, held = threading.Event(), threading.Event()

    def breaks(s: Scene) -> None:
        assert holding.wait(BOUND_S)  # the other observation began (none begins once the prelude met a break)
        raise ProgramBroken("the integration program `acme` wrote something that is not a JSON-RPC response")

    def holds(s: Scene) -> None:
        holding.set()
        held.wait(BOUND_S)  # an observation that takes its time: the run does not wait for it
        s.fact("x", True)

    prelude = _side_by_side(session, {"breaks-side-by-side": breaks, "holds-side-by-side": holds})
    session.prelude = prelude
    try:
        evidence: dict[str, Any] = {}
        with pytest.raises(ProgramBroken) as raised:
            session.run(registry.get("error-handling.400-not-retried"), evidence)
        assert str(raised.value).startswith(
            "observing the `breaks-side-by-side` scenario side by side: the integration program `acme` wrote"
        )
        assert prelude.running, "the run stopped while the other observation was still under way"
        assert "waited_for_side_by_side_s" in evidence
        # a check that may run beside the prelude stops too: every later operation would fail the same way
        with pytest.raises(ProgramBroken):
            session.run(registry.get("lifecycle.full-journey"), {})
    finally:
        held.set()
    prelude.join(BOUND_S)
    assert prelude.wait(0) == ["holds-side-by-side"]


def test_a_program_the_suite_shut_down_is_no_broken_program(session: SuiteSession) -> None:
    def shut_down(s: Scene) -> None:
        raise ProgramShutDown("the integration program `acme` was shut down")

    def works(s: Scene) -> None:
        s.fact("x", True)

    prelude = _side_by_side(session, {"shut-down-side-by-side": shut_down, "works-side-by-side-too": works})
    assert prelude.wait(BOUND_S) == ["works-side-by-side-too"]
    assert prelude.broken is None


def test_a_scenario_whose_proxy_does_not_start_keeps_no_other_waiting(
    session: SuiteSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One scenario's own proxy fails to start (a harness fault): the others do not wait for it at the barrier for
    its whole bound; every observation is dropped, and each check observes in its turn, as for any failure here."""
    started = session.own_proxy
    calls: list[int] = []
    lock = threading.Lock()

    def own_proxy() -> Any:
        with lock:
            calls.append(1)
            first = len(calls) == 1
        if first:
            raise OSError("no port for the proxy")
        return started()

    def drive(s: Scene) -> None:
        s.fact("x", True)

    monkeypatch.setattr(session, "own_proxy", own_proxy)
    began = time.monotonic()
    prelude = _side_by_side(session, {"proxied-0": drive, "proxied-1": drive})
    prelude.join(5.0)
    assert not prelude.running, "a scenario still waits for the one whose proxy never started"
    assert time.monotonic() - began < 5.0
    assert prelude.wait(0) == []
