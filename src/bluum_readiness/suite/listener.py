"""Turns pytest events into ``CheckResult``s, merges them across xdist workers, and emits the run's report.

Per test: at collection its checklist item and check go into ``item.stash[META]``; each phase's report folds
into ``item.stash[RESULT]`` (worst status wins: passed < skipped < not_verifiable < failed < broken), with the
evidence the harness recorded (``item.stash[EVIDENCE]``, filled by ``run_check``) and a ConformanceFailure's
expected/observed/fix/evidence. The teardown report carries a short JSON summary in ``user_properties`` so the
process that shows progress (the xdist controller) sees every outcome live. Workers ship full results, scrubbed
of their secrets, via ``config.workeroutput``; the controller merges them in ``pytest_testnodedown``.

Interruption: Ctrl-C (SIGINT) is pytest's KeyboardInterrupt; SIGTERM is made one (``Terminated``, raised by the
handler ``stop_on_sigterm`` installs). Either way pytest still runs ``pytest_sessionfinish``, and the report is an
*interrupted* record: the checks that finished, items not finished ``skipped`` (never "no test collected").
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import signal
import threading
import time
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from bluum_readiness import __version__
from bluum_readiness.errors import ConfigError
from bluum_readiness.failures import ConformanceFailure, Status
from bluum_readiness.protocol.program import ProgramBroken, ProgramShutDown
from bluum_readiness.report.printable import well_formed_data
from bluum_readiness.report.provenance import of_target
from bluum_readiness.run import Run
from bluum_readiness.suite.identity import identity
from bluum_readiness.suite.results import CheckResult, RunReport, build_report, environment_of, write_json

if TYPE_CHECKING:
    from bluum_readiness.checks.registry import Registry

__all__ = [
    "CONFIG_MARK",
    "NOT_APPLICABLE",
    "STOPPED",
    "EVIDENCE",
    "META",
    "NOT_VERIFIED",
    "PROGRESS_PROPERTY",
    "REPORT",
    "RESULT",
    "Listener",
    "runs_no_check",
    "Meta",
    "Terminated",
    "stop_on_sigterm",
]

MARKER = "checklist"
PROGRESS_PROPERTY = "bluum_readiness.result"
WORKER_OUTPUT = "bluum_readiness"


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C raises KeyboardInterrupt, so a terminated run stops (and is recorded) the same
    way: fixtures torn down, servers stopped, an interrupted readiness.json written."""

    def __init__(self, signal_name: str = "SIGTERM") -> None:
        super().__init__(signal_name)
        self.signal_name = signal_name


def stop_on_sigterm() -> Callable[[], None]:
    """Make SIGTERM raise ``Terminated`` in the main thread, unless a handler is installed already; returns the
    function that restores the previous one (a no-op off the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = signal.getsignal(signal.SIGTERM)
    if previous not in (signal.SIG_DFL, None):
        return lambda: None

    def terminated(signum: int, frame: object) -> None:
        raise Terminated(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, terminated)

    def restore() -> None:
        signal.signal(signal.SIGTERM, previous)

    return restore


INTERRUPT_TRACEBACK_ENTRIES = 4
"""How many of the innermost traceback entries pytest's report of an interrupt renders. It prints one line of it in
pytest.log, where the signal landed (``--full-trace``, which the run never passes, would print them all), but first
renders every entry with its source statement (parsing its file, with its arguments): a run's stack is ~50 entries
deep (pytest, pluggy, the harness), which cost an interrupted run ~0.3-0.7 s of CPU as it stopped."""


def reportable_traceback(excinfo: Any) -> None:
    """Leave the traceback entries without a line number out of ``excinfo`` (a ``pytest.ExceptionInfo``), and all
    but the innermost ``INTERRUPT_TRACEBACK_ENTRIES``. Python 3.11 can leave an entry without a line number where a
    signal lands (seen: inside Hypothesis's AST visitor, when SIGTERM arrived while money-invariants started):
    pytest's report of the interrupt then fails with a TypeError, and a stopped run ended as an internal error
    (exit 1) instead of interrupted (130)."""

    def has_line(entry: Any) -> bool:
        try:
            return isinstance(entry.lineno, int)
        except TypeError:  # tb_lineno is None
            return False

    with contextlib.suppress(Exception):  # never let the repair itself get in the way of stopping
        excinfo.traceback = excinfo.traceback.filter(has_line)[-INTERRUPT_TRACEBACK_ENTRIES:]


def signal_of(exc: BaseException | None) -> str:
    """The signal an interruption came from: SIGTERM for ``Terminated``, else SIGINT (Ctrl-C, a worker's Ctrl-C)."""
    return exc.signal_name if isinstance(exc, Terminated) else "SIGINT"


@dataclass(frozen=True)
class Meta:
    item: str
    check: str
    title: str
    severity: str


META = pytest.StashKey[Meta]()
RESULT = pytest.StashKey[CheckResult]()
EVIDENCE = pytest.StashKey[dict[str, Any]]()
REPORT = pytest.StashKey[RunReport]()
NOT_VERIFIED = pytest.StashKey[str]()  # why a test's check could not judge (set by the plugin on NotVerifiable)
STOPPED = pytest.StashKey[str]()  # why the run stopped before its end without a signal (the integration broke)
STOP_PROPERTY = "bluum_readiness_stop"
STOPPED_BY = "a broken integration program"
STOPPED_BY_CONFIG = "a configuration the run contradicts"
CONFIG_MARK = "config: "  # a STOP_PROPERTY value that is a configuration error (exit 2 with its message as it is)
NOT_APPLICABLE = pytest.StashKey[str]()  # why a test's check does not apply (set by the plugin on NotApplicable)
"""How an interrupted record names what stopped it when the integration program broke the adapter protocol."""
CALLED = pytest.StashKey[bool]()  # the test's body ran (its call phase was reported)
NEVER_RAN = "its test body never ran (pytest ran its setup and teardown only), so it observed nothing"


def meta_of(test: pytest.Item) -> Meta | None:
    """The checklist item and check a test proves (None for a test without the marker)."""
    marker = test.get_closest_marker(MARKER)
    if marker is None:
        return None
    item_id = str(marker.args[0])
    callspec = getattr(test, "callspec", None)
    check = callspec.params.get("check") if callspec is not None else None
    if check is not None:  # a suite test's parameter: the checks are imported already (see _registry)
        from bluum_readiness.checks.registry import Check

        if isinstance(check, Check):
            return Meta(item_id, check.id, check.title, check.severity.value)
    doc = (getattr(getattr(test, "obj", None), "__doc__", None) or "").strip().splitlines()
    return Meta(item_id, f"{item_id}.{test.name}", doc[0] if doc else test.name, "required")


def _registry() -> Registry:
    """Every registered check. Imported when a readiness run needs it, not with the listener: the plugin registers
    the listener in every pytest run, and importing the checks imports the harness, the twin and the proxy."""
    from bluum_readiness.checks.registry import registry

    return registry


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    return reason.removeprefix("Skipped: ")


def classify(
    report: pytest.TestReport,
    call: pytest.CallInfo[None],
    not_verified: str | None = None,
    not_applicable: str | None = None,
) -> tuple[Status, dict[str, Any]]:
    """(status, details) of one phase: conformance findings are failed, a check that could not judge
    (``not_verified``: its reason) is not verifiable, one about what the team declared unused (``not_applicable``)
    is not applicable, anything else raised is broken."""
    if report.passed:
        return Status.PASSED, {}
    if report.skipped:
        if not_verified is not None:
            return Status.NOT_VERIFIABLE, {"message": not_verified}
        if not_applicable is not None:
            return Status.NOT_APPLICABLE, {"message": not_applicable}
        return Status.SKIPPED, {"message": _skip_reason(report)}
    excinfo = call.excinfo
    exc = excinfo.value if excinfo is not None else None
    if isinstance(exc, ConformanceFailure):
        return Status.FAILED, {
            "message": str(exc),
            "expected": exc.expected,
            "observed": exc.observed,
            "fix": exc.fix or None,
            "cause": exc.cause or None,
            "evidence": dict(exc.evidence) or None,
        }
    if isinstance(exc, ConfigError):  # the configuration contradicts what the run saw: the run stops on it (exit 2)
        return Status.NOT_VERIFIABLE, {"message": f"the run stopped on a configuration error: {exc}"}
    if isinstance(exc, ProgramBroken):  # the integration's doing, not the suite's: the run stops on it
        stopped = f"the integration program broke the adapter protocol, so the run stopped here: {exc}"
        return Status.NOT_VERIFIABLE, {"message": stopped}
    if report.when == "call" and isinstance(exc, AssertionError):
        return Status.FAILED, {"message": str(exc) or "assertion failed"}
    where = "" if report.when == "call" else f" (in {report.when})"
    text = f"{type(exc).__name__}: {exc}" if exc is not None else report.longreprtext.strip().splitlines()[-1:]
    return Status.BROKEN, {"message": f"harness error{where}, not a finding about the integration: {text}"}


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


#: pytest's options under which no test body runs: --collect-only, --setup-only, --setup-plan, --fixtures,
#: --fixtures-per-test (their ``dest`` names)
NO_TEST_BODY = ("collectonly", "setuponly", "setupplan", "showfixtures", "show_fixtures_per_test")


def runs_no_check(config: pytest.Config) -> bool:
    """``pytest --collect-only`` lists the checks, ``--setup-only``, ``--setup-plan`` and ``--fixtures`` show their
    fixtures: no check's body runs, so nothing is judged (no verdict, no record, no item passed or failed), nothing
    is served, and a real target is not asked anything."""
    return any(config.getoption(name, False) for name in NO_TEST_BODY)


class Listener:
    """Registered by the plugin in every process; the controller (or a run without xdist) emits the report."""

    def __init__(self, config: pytest.Config, *, complete: bool, activate: Callable[[], Run]) -> None:
        self.config = config
        self.run: Run | None = None  # None until the plugin activates a readiness run (``activate``)
        self._activate = activate
        self.complete = complete
        self.results: dict[str, CheckResult] = {}
        self.started = time.time()
        self.is_worker = hasattr(config, "workerinput")
        self.interrupted: str | None = None  # the signal that stopped the run
        self.workers: list[Any] = []  # xdist worker nodes (controller only)
        self.deselected: dict[str, set[str]] = {}  # item id -> its checks left out (-k, -m, --deselect, --lf)
        self.collected: dict[str, set[str]] = {}  # item id -> its checks the run was to run (after selection)

    def activate(self, run: Run) -> None:
        self.run = run

    def _serving(self) -> Run:
        """The run; on the controller, results from workers that activated on their own activate it here."""
        return self.run if self.run is not None else self._activate()

    # -- collection -----------------------------------------------------------------------------------------

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for test in items:
            meta = meta_of(test)
            if meta is not None:
                test.stash[META] = meta
                self.collected.setdefault(meta.item, set()).add(meta.check)

    def pytest_deselected(self, items: Sequence[pytest.Item]) -> None:
        """Checks left out of the run (``-k``, ``-m``, ``--deselect``, ``--lf``, and ``--only``'s other items): an
        item with any of them did not run in full (``build_report``'s ``deselected``)."""
        for test in items:
            meta = meta_of(test)
            if meta is not None:
                self.deselected.setdefault(meta.item, set()).add(meta.check)

    # -- running --------------------------------------------------------------------------------------------

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report: pytest.TestReport = yield
        meta = item.stash.get(META, None)
        if meta is None:
            return report
        result = item.stash.get(RESULT, None)
        if result is None:
            result = CheckResult(item.nodeid, meta.item, meta.check, meta.title, severity=meta.severity)
            result.started = call.start
            item.stash[RESULT] = result
        status, details = classify(
            report, call, item.stash.get(NOT_VERIFIED, None), item.stash.get(NOT_APPLICABLE, None)
        )
        broke = call.excinfo.value if call.excinfo is not None else None
        if isinstance(broke, ProgramBroken) and not isinstance(broke, ProgramShutDown):
            # stop at once, as at start-up: every later operation would fail the same way (workers stop too)
            item.session.shouldstop = f"{STOPPED_BY}: {broke}"
            report.user_properties.append((STOP_PROPERTY, f"{result.id}: {broke}"))
        elif isinstance(broke, ConfigError):  # the configuration contradicts what the suite sees: a usage error
            item.session.shouldstop = f"{STOPPED_BY_CONFIG}: {broke}"
            report.user_properties.append((STOP_PROPERTY, f"{CONFIG_MARK}{broke}"))
        result.merge(status, **details)
        result.duration_s += report.duration
        if report.when == "call":
            item.stash[CALLED] = True
        elif report.when == "teardown" and result.status == Status.PASSED and not item.stash.get(CALLED, False):
            # a setup and a teardown that passed prove nothing (one skipped or broken in setup keeps its status)
            result.merge(Status.NOT_VERIFIABLE, message=NEVER_RAN)
        if report.when == "teardown":
            recorded: dict[str, Any] = item.stash.get(EVIDENCE, {})
            result.evidence = {**recorded, **result.evidence}
            self.results[item.nodeid] = result
            summary = {k: getattr(result, k) for k in ("item", "id", "title", "status", "severity", "message")}
            summary["duration_s"] = result.duration_s
            report.user_properties.append((PROGRESS_PROPERTY, self._serving().secrets.scrub(json.dumps(summary))))
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Live outcomes on the controller (for xdist workers' tests too), and the ``pytest_readiness_check`` hook."""
        if self.is_worker:
            return
        if str(report.when) == "???":  # xdist's report of a worker that died running the test
            self._worker_died(report)
            return
        for name, value in report.user_properties:
            if name == STOP_PROPERTY and STOPPED not in self.config.stash:
                self.config.stash[STOPPED] = str(value)
                dsession = self.config.pluginmanager.getplugin("dsession")  # xdist: stop the other workers too
                if dsession is not None:
                    dsession.shouldstop = f"{STOPPED_BY}: {value}"
        if report.when != "teardown":
            return
        for name, value in report.user_properties:
            if name == PROGRESS_PROPERTY:
                self._serving()
                summary = json.loads(str(value))
                result = self.results.get(report.nodeid) or CheckResult(nodeid=report.nodeid, **summary)
                self.results.setdefault(report.nodeid, result)
                self.config.hook.pytest_readiness_check(config=self.config, result=result)

    def _worker_died(self, report: pytest.TestReport) -> None:
        """The check's worker process died under it (the integration ended the process, a crash): the check is
        broken, with why — never lost, never "no test collected"."""
        check_id = report.nodeid.rpartition("[")[2].rstrip("]")
        try:
            entry = _registry().get(check_id)
        except KeyError:
            return
        self._serving()
        result = CheckResult(
            report.nodeid,
            entry.item,
            entry.id,
            entry.title,
            status=Status.BROKEN,
            severity=str(entry.severity),
            message=f"the process running this check died ({report.longreprtext.strip().splitlines()[-1]}): "
            "something in the "
            "integration ended it (os._exit, a crash in native code, the OOM killer); see pytest.log",
        )
        self.results[report.nodeid] = result
        self.config.hook.pytest_readiness_check(config=self.config, result=result)

    # -- xdist ----------------------------------------------------------------------------------------------

    @pytest.hookimpl(optionalhook=True)  # pytest-xdist's: absent under -p no:xdist
    def pytest_testnodeready(self, node: Any) -> None:
        self.workers.append(node)

    def _terminate_workers(self) -> None:
        """Pass a SIGTERM the controller got on to the xdist workers, so they stop now (a terminal's Ctrl-C
        reaches them itself) rather than after execnet's grace period; best effort (execnet's popen gateway)."""
        for node in self.workers:
            pid = getattr(getattr(getattr(node.gateway, "_io", None), "popen", None), "pid", None)
            if isinstance(pid, int):
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGTERM)

    @pytest.hookimpl(wrapper=True)
    def pytest_report_to_serializable(self, config: pytest.Config, report: Any) -> Any:
        """A report as an xdist worker ships it, every text writable as UTF-8: execnet refuses a lone surrogate (half
        of an emoji in an integration's error message, in the finding's text or its captured log) and the worker
        died with the run ("the suite could not run"); it becomes ``�`` (``printable.well_formed``), as in
        readiness.json and pytest.log."""
        data = yield
        return None if data is None else well_formed_data(data)

    @pytest.hookimpl(optionalhook=True)  # pytest-xdist's: absent under -p no:xdist
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        output = getattr(node, "workeroutput", {}).get(WORKER_OUTPUT)
        if output:
            self._serving()
            shipped = json.loads(output)
            for data in shipped["results"]:
                result = CheckResult.from_dict(data)
                self.results[result.nodeid] = result
            for item, checks in shipped.get("deselected", {}).items():  # every worker collects (and leaves out) all
                self.deselected.setdefault(item, set()).update(checks)
            for item, checks in shipped.get("collected", {}).items():
                self.collected.setdefault(item, set()).update(checks)

    # -- the end --------------------------------------------------------------------------------------------

    @pytest.hookimpl(tryfirst=True)
    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        """First of the hook's implementations: the interrupt is recorded (and workers ended) before pytest's own
        report of it runs, and that report gets a traceback it can render (``reportable_traceback``)."""
        if self.interrupted is None:
            self.interrupted = signal_of(excinfo.value)
        if isinstance(excinfo.value, Terminated):
            self._terminate_workers()
        if self.run is not None:
            reportable_traceback(excinfo)

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.run is None or runs_no_check(self.config):
            return  # not a readiness run, or one that runs no check's body: nothing was judged
        if self.interrupted is None and session.exitstatus == pytest.ExitCode.INTERRUPTED:
            stopped = self.config.stash.get(STOPPED, "")
            by = STOPPED_BY_CONFIG if stopped.startswith(CONFIG_MARK) else STOPPED_BY
            self.interrupted = by if stopped else "SIGINT"
        if self.is_worker:
            shipped = [self.run.secrets.scrub_data(r.to_dict()) for r in self.results.values()]
            deselected = {item: sorted(checks) for item, checks in self.deselected.items()}
            collected = {item: sorted(checks) for item, checks in self.collected.items()}
            output = json.dumps({"results": shipped, "deselected": deselected, "collected": collected})
            self.config.workeroutput[WORKER_OUTPUT] = output  # type: ignore[attr-defined]
            return
        report = self.report()
        self.config.stash[REPORT] = report
        self.config.hook.pytest_readiness_report(config=self.config, report=report)
        missing = [i.id for i in report.items if any(c.id == f"{i.id}.tests-collected" for c in i.checks)]
        if missing and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        if self.run.config.out and self.config.getoption("readiness_out") is not None:
            self.json_path = write_json(report, self.run.config.out, self.run.secrets)

    def selected(self) -> list[str] | None:
        if self.run is not None and self.run.config.only:
            return list(self.run.config.only)
        if self.complete:
            from bluum_readiness.catalog import items

            return [i.id for i in items()]
        return None

    def report(self) -> RunReport:
        assert self.run is not None, "no readiness run was activated"
        run = self.run.config
        remote = self.run.target
        finished = time.time()
        target: dict[str, Any] = {
            "mode": "embedded" if remote is None else "remote",
            "host": "embedded twin" if remote is None else remote.host,
            "url": "embedded" if remote is None else remote.base_url,
        }
        target["environment"] = environment_of(target)
        limiter = self.run.limiter() if remote is not None else None
        refused, slowest = limiter.refusals() if limiter is not None and limiter.path.exists() else (0, 0.0)
        if refused:  # the target rate-limited a run that kept under its limit: another client shares the key pair
            target["rate_limited"] = {"refusals": refused, "slowest_per_s": round(slowest, 3)}
        metadata = {
            "suite_version": __version__,
            "started": _iso(self.started),
            "finished": _iso(finished),
            "duration_s": round(finished - self.started, 3),
            "target": target,
            "integration": run.integration,
            "integration_identity": identity(run),
            "seed": run.seed,
            "workers": run.workers,
            "selected": self.selected() or sorted({r.item for r in self.results.values()}),
            "python": platform.python_version(),
            "pytest": pytest.__version__,
        }
        registry = _registry()
        with_checks = sorted({c.item for c in registry})
        expected: dict[str, list[str]] = {}
        for entry in registry:
            expected.setdefault(entry.item, []).append(entry.id)
        results = [r for r in self.results.values()]
        static = {c.id for c in registry if c.static}
        for result in results:  # where each check was proven: the run's target, static (the secret scan), declared
            result.provenance = of_target(target, static=result.id in static, declared=result.evidence.get("declared"))
        return build_report(
            results,
            selected=self.selected(),
            with_checks=with_checks,
            metadata=metadata,
            interrupted=self.interrupted,
            expected=expected,
            deselected=self.deselected,
            collected=self.collected,
        )

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        report = self.config.stash.get(REPORT, None)
        if report is None or self.is_worker or not self.results and self.selected() is None:
            return
        terminalreporter.section("bluum-readiness")
        for item in report.items:
            terminalreporter.write_line(f"{item.status:>15}  {item.id}")
        if report.items_without_checks:
            terminalreporter.write_line(
                f"no checks yet in this version (not verified, not counted): {', '.join(report.items_without_checks)}"
            )
        terminalreporter.write_line(f"verdict: {report.verdict_line}")
        path = getattr(self, "json_path", None)
        if path is not None:
            terminalreporter.write_line(f"readiness.json: {path}")
