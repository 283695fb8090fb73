"""pytest plugin of the readiness suite (entry point ``pytest11: bluum_readiness``): options, the ``checklist``
marker, collection rules, the harness fixtures, and the evidence listener.

It stays out of the way: a pytest run that did not ask for a readiness run — no readiness option given, no
``checklist``-marked test collected — reads no configuration, starts nothing and reports nothing, even in a
project whose pyproject.toml has ``[tool.bluum-readiness]``. A readiness run is *activated*:

- by ``bluum-readiness run``, which resolves the ``Run`` itself and hands it over (``RunHolder``);
- at start-up, when one of the options below is given (``--integration``, ``--target``, ``--only``,
  ``--readiness-out``, ``--bluum-config``, ``--checklist-complete``): the ``Run`` is resolved once here;
- at collection, when a ``checklist``-marked test is collected (``pytest`` in a checkout runs the suite's
  testpaths): the ``Run`` is resolved then, in the process that collected it.

The process that activates a run at start-up hands it to every xdist worker (``workerinput``), so workers never
re-read the configuration or ask a credential source again. (Workers that activate on their own at collection
resolve it once each; against a real environment each then keeps to its share of the rate limit.)

- Each suite test is tagged ``@pytest.mark.checklist("<item id>")``; an unknown id is a collection (usage) error.
- ``--only ITEM`` (repeatable) deselects every other item's tests. When the run covers the whole suite
  (``pytest`` on its testpaths, ``bluum-readiness run``, or ``--only``), a selected item with checks but no
  collected test fails the run.
- A check that raises ``NotVerifiable`` is recorded *not verifiable* (``Status.NOT_VERIFIABLE``, kept in the
  test's stash) and shown by pytest as a skip.
- SIGTERM stops a run as Ctrl-C does (an interrupted readiness.json, fixtures torn down), in every process.
- Settings come from ``bluum-readiness.toml`` / ``[tool.bluum-readiness]`` in the current directory (or
  ``--bluum-config``); options given here override them. See docs/cli.md and docs/configuration.md.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from bluum_readiness.catalog import item as checklist_item
from bluum_readiness.config import AlertsConfig, RunConfig, load_config
from bluum_readiness.errors import ConfigError, HarnessError
from bluum_readiness.failures import NotApplicable, NotVerifiable, hidden_for_findings
from bluum_readiness.run import Run
from bluum_readiness.suite import hookspecs
from bluum_readiness.suite.listener import (
    EVIDENCE,
    MARKER,
    NOT_APPLICABLE,
    NOT_VERIFIED,
    Listener,
    runs_no_check,
    stop_on_sigterm,
)

# The checks, the harness, the twin and the proxy (~0.4 s of CPU) are imported where a readiness run uses them, not
# with the plugin: pytest loads it by its entry point in every pytest run where bluum-readiness is installed.
if TYPE_CHECKING:
    from bluum_readiness.checks.registry import Check
    from bluum_readiness.suite.session import SuiteSession

__all__ = ["LISTENER", "RUN", "RunHolder", "active_run"]

RUN = pytest.StashKey[Run]()
LISTENER = pytest.StashKey[Listener]()
WIRE = "bluum_readiness_run"  # the workerinput key that carries the run to an xdist worker
OPTIONS = ("integration", "target", "only", "readiness_out", "bluum_config", "checklist_complete")


class RunHolder:
    """How ``bluum-readiness run`` hands the ``Run`` it resolved to pytest: ``pytest.main(args, plugins=[holder])``.
    The run is then not resolved again, and not preflighted again (the command did it before starting pytest)."""

    def __init__(self, run: Run) -> None:
        self.run = run


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(hookspecs)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("bluum-readiness", "Bluum readiness suite")
    group.addoption(
        "--integration",
        default=None,
        help="the adapter under test, MODULE:FACTORY or exec:COMMAND (default: the reference integration)",
    )
    group.addoption(
        "--target", default=None, help="'embedded' (default: a twin started for the run) or an API base URL"
    )
    group.addoption(
        "--only", action="append", default=None, metavar="ITEM", help="run only this checklist item (repeatable)"
    )
    group.addoption("--readiness-out", default=None, metavar="DIR", help="write readiness.json into DIR")
    group.addoption("--bluum-config", default=None, metavar="FILE", help="the bluum-readiness.toml to use")
    group.addoption(
        "--checklist-complete",
        action="store_true",
        default=False,
        help="every checklist item is selected: one without tests fails the run (implied by testpaths runs)",
    )
    group.addoption("--no-preflight", action="store_true", default=False, help=argparse.SUPPRESS)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{MARKER}(item): ties a test to a Bluum readiness checklist item")
    complete = bool(config.getoption("checklist_complete")) or config.args_source == pytest.Config.ArgsSource.TESTPATHS
    listener = Listener(config, complete=complete, activate=lambda: activate(config))  # inert until activated
    config.stash[LISTENER] = listener
    config.pluginmanager.register(listener, "bluum_readiness.listener")
    config.add_cleanup(lambda: config.pluginmanager.unregister(listener))
    if _handed(config) is not None or any(config.getoption(name) for name in OPTIONS):
        activate(config)


def _handed(config: pytest.Config) -> Run | None:
    """The run ``bluum-readiness run`` handed over, or the one the controller sent this xdist worker."""
    holder = next((p for p in config.pluginmanager.get_plugins() if isinstance(p, RunHolder)), None)
    if holder is not None:
        return holder.run
    wire = getattr(config, "workerinput", {}).get(WIRE)
    return Run.from_wire(wire) if wire else None


def active_run(config: pytest.Config) -> Run | None:
    """The readiness run this pytest session serves, or None when none was asked for (yet)."""
    return config.stash.get(RUN, None)


def activate(config: pytest.Config) -> Run:
    """Resolve the run once (or take the one handed over), and start serving it: the listener, SIGTERM handling,
    the shared rate limiter, the preflight against a real environment. A bad configuration is a usage error."""
    found = config.stash.get(RUN, None)
    if found is not None:
        return found
    handed = _handed(config)
    worker = hasattr(config, "workerinput")
    try:
        run = handed if handed is not None else Run.resolve(_configured(config))
    except ConfigError as exc:
        raise pytest.UsageError(f"bluum-readiness: {exc}") from None
    if run.limiter_state is None:
        run = _with_limiter(config, run, share=_worker_count() if worker else 1)
    config.stash[RUN] = run
    config.stash[LISTENER].activate(run)
    config.add_cleanup(stop_on_sigterm())  # SIGTERM stops the run like Ctrl-C, here and in xdist workers
    if runs_no_check(config):
        return run  # only the checks' names or fixtures are wanted: no listener, no preflight
    if run.config.alerts is not None and not worker:
        _listen_for_alerts(config, run.config.alerts)
    if handed is None and not worker and not run.embedded and not config.getoption("no_preflight"):
        from bluum_readiness.suite.session import preflight

        target = run.target
        assert target is not None
        try:
            preflight(target.base_url, run.credentials)
        except HarnessError as exc:
            pytest.exit(f"bluum-readiness: {exc}", returncode=exc.exit_code)
    return run


def _listen_for_alerts(config: pytest.Config, alerts: AlertsConfig) -> None:
    """``[alerts]``: the run's alert listener, in the process that starts the run (xdist workers read it over
    HTTP), for as long as the run lasts."""
    from bluum_readiness.alerts.listener import serve

    try:
        listener = serve(alerts)
    except ConfigError as exc:
        raise pytest.UsageError(f"bluum-readiness: {exc}") from None
    config.add_cleanup(listener.stop)


def _configured(config: pytest.Config) -> RunConfig:
    """The config file (found in the current directory, or --bluum-config) overridden by this run's options."""
    return load_config(config.getoption("bluum_config")).override(
        target=config.getoption("target"),
        integration=config.getoption("integration"),
        only=config.getoption("only"),
        out=config.getoption("readiness_out"),
    )


def _worker_count() -> int:
    with contextlib.suppress(ValueError):
        return max(1, int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")))
    return 1


def _with_limiter(config: pytest.Config, run: Run, share: int) -> Run:
    """A rate limiter for the run when a limit is in force (against a real environment): created here, shared
    with the workers this process starts, removed at the end; a worker that activated on its own keeps to its
    ``share`` of the limit."""
    limited = run.with_shared_limiter(share=share)
    if limited.limiter_state is not None:
        state = Path(limited.limiter_state)
        config.add_cleanup(lambda: state.unlink(missing_ok=True))
    return limited


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """An xdist worker of a readiness run ends next (its interpreter exits once the session is over): keep its heap
    out of the collections the interpreter runs while it shuts down (``gc.freeze``), as the run's own process does
    (``cli/_supervise.py``). With pytest, the checks, the twin and Hypothesis loaded they took ~0.3-0.8 s of CPU per
    worker of every ``-n`` run after its last check, to free memory the operating system takes back at exit anyway;
    ``atexit`` handlers and ``weakref.finalize`` still run. Only in a worker: the controller, or pytest run by hand,
    may have more to do in this process."""
    if hasattr(config, "workerinput") and active_run(config) is not None:
        gc.freeze()


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist, on the controller: hand the run to each worker it starts."""
    run = active_run(node.config)
    if run is not None:
        node.workerinput[WIRE] = run.to_wire()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    marked = [test for test in items if test.get_closest_marker(MARKER) is not None]
    if not marked and active_run(config) is None:
        return  # not a readiness run: nothing of ours here
    for test in marked:
        for marker in test.iter_markers(MARKER):
            if len(marker.args) != 1:
                raise pytest.UsageError(f"{test.nodeid}: @pytest.mark.checklist takes exactly one item id")
            try:
                checklist_item(marker.args[0])
            except ConfigError as exc:
                raise pytest.UsageError(f"{test.nodeid}: {exc}") from None
    only = activate(config).config.only
    if only:
        keep: list[pytest.Item] = []
        drop: list[pytest.Item] = []
        for test in items:
            mark = test.get_closest_marker(MARKER)
            (keep if mark is None or mark.args[0] in only else drop).append(test)
        if drop:
            config.hook.pytest_deselected(items=drop)
            items[:] = keep


@pytest.hookimpl(wrapper=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> Iterator[None]:
    """A test that raises NotVerifiable is reported not verifiable (never passed, never failed)."""
    try:
        return (yield)
    except NotVerifiable as exc:
        _not_verified(pyfuncitem, exc)
    except NotApplicable as exc:
        _not_applicable(pyfuncitem, exc)


def _not_applicable(test: pytest.Item, exc: NotApplicable) -> None:
    test.stash[NOT_APPLICABLE] = exc.reason  # the status; the skip is only how pytest shows it
    pytest.skip(exc.reason)


def _not_verified(test: pytest.Item, exc: NotVerifiable) -> None:
    test.stash[NOT_VERIFIED] = exc.reason  # the status; the skip is only how pytest shows it
    pytest.skip(f"not verifiable: {exc.reason}")


@pytest.fixture(scope="session")
def suite_session(request: pytest.FixtureRequest) -> Iterator[SuiteSession]:
    """The target, proxy and integration factory for this run (an embedded twin by default)."""
    from bluum_readiness.suite.session import SuiteSession

    run = activate(request.config)
    session = SuiteSession(run)
    _scan_ahead(request, run)
    _observe_side_by_side(request, session)
    yield session
    session.close()


def _scan_ahead(request: pytest.FixtureRequest, run: Run) -> None:
    """The secret scan is CPU work while most checks wait on the network: start it now when this process runs
    the credentials checks (one process only: under xdist the worker that runs them scans when it gets there)."""
    if hasattr(request.config, "workerinput"):
        return
    if any((m := t.get_closest_marker(MARKER)) is not None and m.args[:1] == ("credentials",)
           for t in request.session.items):  # fmt: skip
        from bluum_readiness.credentials.scan import prefetch_scan

        prefetch_scan(run.config)


def _observe_side_by_side(request: pytest.FixtureRequest, session: SuiteSession) -> None:
    """A serial run starts observing the scenarios that mostly wait side by side, beside its first checks
    (``suite/prelude.py``); under xdist each worker's checks are not known in advance, and the workers already
    overlap them."""
    if hasattr(request.config, "workerinput"):
        return
    from bluum_readiness.checks.registry import Check
    from bluum_readiness.suite.prelude import side_by_side_scenarios, start_side_by_side

    checks = [
        check
        for test in request.session.items
        if isinstance(check := getattr(getattr(test, "callspec", None), "params", {}).get("check"), Check)
    ]
    session.prelude = start_side_by_side(session, side_by_side_scenarios(checks))


@pytest.fixture
def run_check(suite_session: SuiteSession, request: pytest.FixtureRequest) -> Iterator[Callable[[Check], None]]:
    """Run a registered check; its evidence goes to the report; NotVerifiable is recorded not verifiable."""

    def run(check: Check) -> None:
        __tracebackhide__ = hidden_for_findings
        evidence: dict[str, Any] = request.node.stash.setdefault(EVIDENCE, {})
        try:
            suite_session.run(check, evidence)
        except NotVerifiable as exc:
            _not_verified(request.node, exc)
        except NotApplicable as exc:
            _not_applicable(request.node, exc)

    yield run
