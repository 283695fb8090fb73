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
report what happens as they always did — except a program that breaks the adapter protocol (``ProgramBroken``):
every later operation would fail the same way, so the prelude stops and the next check the run starts stops the run
with it, at once, as a check that meets it does (``Prelude.broken``, ``SuiteSession.run``). A run that stops early
(Ctrl-C, SIGTERM, a broken program) stops the prelude too (``Prelude.stop``): no integration is started and no
scenario begins after that; those already observing end within the session's close grace.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from bluum_readiness.checks.observation import SCENARIOS, Scenario
from bluum_readiness.harness import SIDE_BY_SIDE
from bluum_readiness.protocol.program import ProgramBroken, ProgramShutDown

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
    store (or failed), then the names of those observed; ``broken`` once the integration program broke the adapter
    protocol in one of them; ``stop`` to start nothing more."""

    def __init__(self, ready: threading.Barrier) -> None:
        self._threads: list[threading.Thread] = []
        self._done: list[str] = []
        self._ready = ready
        self._lock = threading.Lock()
        self._left = 0
        self._settled = threading.Event()  # every observation ended, or one met a broken program
        self.stopping = threading.Event()
        self.broken: ProgramBroken | None = None

    def _start(self, threads: list[threading.Thread]) -> None:
        self._threads, self._left = threads, len(threads)
        for thread in threads:
            thread.start()

    def wait(self, timeout: float | None = None) -> list[str]:
        """Until every observation ended, or one met a broken program (``broken``: no need to wait for the others),
        or ``timeout`` seconds; the names of those observed so far."""
        self._settled.wait(timeout)
        return list(self._done)

    def join(self, timeout: float) -> None:
        """Until every observation's thread ended, or ``timeout`` seconds (a run stopping early does not wait for a
        scenario's whole bound)."""
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    @property
    def running(self) -> bool:
        return any(thread.is_alive() for thread in self._threads)

    def stop(self) -> None:
        """Start no integration and no scenario from now on (a run stopping early); those under way go on."""
        self.stopping.set()
        self._ready.abort()  # a scenario waiting for the others' integrations gives up at once

    def _broke(self, scenario: str, exc: ProgramBroken) -> None:
        """The program broke the protocol while ``scenario`` was observed: the run stops (the first reason wins). Not
        when the suite shut the program down (closing: no fault of the program's)."""
        if isinstance(exc, ProgramShutDown):
            return
        with self._lock:
            if self.broken is None and not self.stopping.is_set():
                self.broken = ProgramBroken(f"observing the `{scenario}` scenario side by side: {exc}")
        self.stop()
        self._settled.set()

    def _ended(self) -> None:
        with self._lock:
            self._left -= 1
            if self._left == 0:
                self._settled.set()


def may_run_beside(check: Check) -> bool:
    """Whether ``check`` may run while the prelude observes (``BESIDE_THE_PRELUDE``); any other waits for it."""
    return check.judge is not None and set(check.judge.scenarios) <= BESIDE_THE_PRELUDE


def start_side_by_side(session: SuiteSession, scenarios: Sequence[Scenario]) -> Prelude | None:
    """Start observing ``scenarios`` at the same time into the session's store; None for fewer than two, or where it
    is not sound (see the module docstring)."""
    if len(scenarios) < 2 or session.virtual_time or not session.target.twin:
        return None
    names = [scenario.name for scenario in scenarios]
    prelude = Prelude(threading.Barrier(len(scenarios)))
    prelude._start(
        [
            threading.Thread(
                target=_observe,
                args=(session, scenario, [n for n in names if n != scenario.name], prelude),
                name=f"side-by-side-{scenario.name}",
                daemon=True,  # a run that stops early exits without them (its programs end with the process: atexit)
            )
            for scenario in scenarios
        ]
    )
    return prelude


def observe_side_by_side(session: SuiteSession, scenarios: Sequence[Scenario]) -> list[str]:
    """``start_side_by_side`` and wait: the names of the scenarios observed (the others failed and are left for
    their checks)."""
    prelude = start_side_by_side(session, scenarios)
    return prelude.wait() if prelude is not None else []


def _observe(session: SuiteSession, scenario: Scenario, beside: list[str], prelude: Prelude) -> None:
    try:
        if not prelude.stopping.is_set():
            _observe_in_own_harness(session, scenario, beside, prelude)
    except Exception:
        # its own harness could not be set up (its proxy did not start): the others must not wait for it at the
        # barrier for its whole bound; every observation is dropped, and each check observes in its turn
        prelude._ready.abort()
    finally:
        prelude._ended()


def _observe_in_own_harness(session: SuiteSession, scenario: Scenario, beside: list[str], prelude: Prelude) -> None:
    proxy = session.own_proxy()
    try:
        with session.harness(proxy) as h, contextlib.suppress(Exception):
            try:
                h.prepare_integration()  # every integration started before any scenario times one
            except ProgramBroken as exc:
                prelude._broke(scenario.name, exc)
                raise
            finally:
                prelude._ready.wait(timeout=_READY_TIMEOUT_S)  # broken (raises) once the prelude stops
            if prelude.stopping.is_set():
                return
            began = time.monotonic()
            try:
                observation = h.observe(scenario, reader=SIDE_BY_SIDE)
            except ProgramBroken as exc:
                prelude._broke(scenario.name, exc)
                raise
            observation.evidence["side_by_side"] = {
                "observed_in_s": round(time.monotonic() - began, 3),
                "beside": beside,
            }
            h.close()  # first: each program's stderr is complete once it exited (as SuiteSession.run does)
            with h.recording(observation.evidence):
                h.keep_integration_output()
            prelude._done.append(scenario.name)
    finally:
        proxy.stop()
