"""The prelude of a serial run: the scenarios that mostly wait, observed side by side from the run's start.

Several checks prove something by waiting: a response withheld past the integration's request timeout (the
exactly-once storm, the same key on a retry), ``Retry-After: 1``, a request held silent, a persistent 429. One
after another they cost a serial run about four seconds of doing nothing. Scenarios registered with
``side_by_side=True`` (``checks/observation.py`` says what that promises) are observed here at the same time, each
in a harness of its own — its own fault proxy in front of the twin, its own integration and investor, every
integration started before any scenario begins (a program starting never competes with a timed wait) — and kept in
the session's store of observations, where the checks that judge them find them (``Harness.observe``; their
evidence says they were observed side by side). Waiting together never makes a wait shorter, so no judge of them
can pass on the overlap.

The prelude starts with the session and runs beside the first checks, the lifecycle's journey, random sequences
and error paths (``BESIDE_THE_PRELUDE``): every other check waits until it is done (``SuiteSession.run``), so no check
that reads logs, registers a webhook or changes the key pair ever overlaps it.

Only where it is sound and pays: a serial run (one process; under xdist the workers already overlap the checks)
against the embedded twin (a real environment's rate limit is the bound there), on the socket proxy. An
observation that fails here for any reason is dropped: its checks then observe it themselves, in their turn, and
report what happens as they always did.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from bluum_readiness.checks.observation import SCENARIOS, Scenario
from bluum_readiness.harness import SIDE_BY_SIDE

if TYPE_CHECKING:
    from bluum_readiness.checks.registry import Check
    from bluum_readiness.suite.session import SuiteSession

__all__ = [
    "BESIDE_THE_PRELUDE",
    "Prelude",
    "may_run_beside",
    "observe_side_by_side",
    "side_by_side_scenarios",
    "start_side_by_side",
]

BESIDE_THE_PRELUDE = frozenset({"journey", "money", "error-paths"})
"""The scenarios whose checks may run while the prelude observes: the lifecycle's journey, random sequences and
error paths, on investors of their own, through the session's proxy, reading no log, registering no webhook,
changing no credentials and judging no timing. Every other check waits until the prelude is done."""

_READY_TIMEOUT_S = 60.0  # how long a scenario waits for the others' integrations to start


def side_by_side_scenarios(checks: Iterable[Check]) -> list[Scenario]:
    """The scenarios the ``checks`` judge that may be observed side by side, in the checks' order."""
    names: dict[str, None] = {}
    for check in checks:
        if check.judge is None:
            continue
        for name in check.judge.scenarios:
            if SCENARIOS[name].side_by_side:
                names.setdefault(name, None)
    return [SCENARIOS[name] for name in names]


class Prelude:
    """Side-by-side observations under way (``start_side_by_side``): ``wait`` until every one is in the session's
    store (or failed), then the names of those observed."""

    def __init__(self, threads: list[threading.Thread], done: list[str]) -> None:
        self._threads = threads
        self._done = done

    def wait(self, timeout: float | None = None) -> list[str]:
        """Until every observation ended (or ``timeout`` seconds: a run stopping early does not wait for a
        scenario's whole bound); the names of those observed so far."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for thread in self._threads:
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        return list(self._done)

    @property
    def running(self) -> bool:
        return any(thread.is_alive() for thread in self._threads)


def may_run_beside(check: Check) -> bool:
    """Whether ``check`` may run while the prelude observes (``BESIDE_THE_PRELUDE``); any other waits for it."""
    return check.judge is not None and set(check.judge.scenarios) <= BESIDE_THE_PRELUDE


def start_side_by_side(session: SuiteSession, scenarios: Sequence[Scenario]) -> Prelude | None:
    """Start observing ``scenarios`` at the same time into the session's store; None for fewer than two, or where it
    is not sound (see the module docstring)."""
    if len(scenarios) < 2 or session.virtual_time or not session.target.twin:
        return None
    done: list[str] = []
    names = [scenario.name for scenario in scenarios]
    ready = threading.Barrier(len(scenarios))
    threads = [
        threading.Thread(
            target=_observe,
            args=(session, scenario, [n for n in names if n != scenario.name], ready, done),
            name=f"side-by-side-{scenario.name}",
            daemon=True,  # a run that stops early exits without them (its programs end with the process: atexit)
        )
        for scenario in scenarios
    ]
    for thread in threads:
        thread.start()
    return Prelude(threads, done)


def observe_side_by_side(session: SuiteSession, scenarios: Sequence[Scenario]) -> list[str]:
    """``start_side_by_side`` and wait: the names of the scenarios observed (the others failed and are left for
    their checks)."""
    prelude = start_side_by_side(session, scenarios)
    return prelude.wait() if prelude is not None else []


def _observe(
    session: SuiteSession, scenario: Scenario, beside: list[str], ready: threading.Barrier, done: list[str]
) -> None:
    proxy = session.own_proxy()
    try:
        with session.harness(proxy) as h, contextlib.suppress(Exception):
            try:
                h.prepare_integration()  # every integration started before any scenario times one
            finally:
                ready.wait(timeout=_READY_TIMEOUT_S)
            began = time.monotonic()
            observation = h.observe(scenario, reader=SIDE_BY_SIDE)
            observation.evidence["side_by_side"] = {
                "observed_in_s": round(time.monotonic() - began, 3),
                "beside": beside,
            }
            h.close()  # first: each program's stderr is complete once it exited (as SuiteSession.run does)
            with h.recording(observation.evidence):
                h.keep_integration_output()
            done.append(scenario.name)
    finally:
        proxy.stop()
