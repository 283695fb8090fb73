"""pytest plugin of the readiness suite (entry point ``pytest11: bluum_readiness``): options, the ``checklist``
marker, collection rules, the harness fixtures, and the evidence listener.

- Each suite test is tagged ``@pytest.mark.checklist("<item id>")``; an unknown id is a collection (usage) error.
- ``--only ITEM`` (repeatable) deselects every other item's tests. When the run covers the whole suite
  (``pytest`` on its testpaths, ``bluum-readiness run``, or ``--only``), a selected item with checks but no
  collected test fails the run.
- A check that raises ``NotVerifiable`` is a skip whose reason starts with "not verifiable:"; the report
  tells it apart from a plain skip (status ``not_verifiable``).
- SIGTERM stops a run as Ctrl-C does (an interrupted readiness.json, fixtures torn down), in every process.
- Settings come from ``bluum-readiness.toml`` / ``[tool.bluum-readiness]`` in the current directory (or
  ``--bluum-config``); options given here override them. See docs/cli.md and docs/configuration.md.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bluum_readiness.catalog import item as checklist_item
from bluum_readiness.checks.registry import Check
from bluum_readiness.config import RunConfig, load_config
from bluum_readiness.errors import ConfigError, HarnessError
from bluum_readiness.failures import NotVerifiable
from bluum_readiness.suite import hookspecs
from bluum_readiness.suite.listener import EVIDENCE, MARKER, NOT_VERIFIABLE_PREFIX, Listener, stop_on_sigterm
from bluum_readiness.suite.ratelimit import ENV_VAR, SharedRateLimiter
from bluum_readiness.suite.session import SuiteSession, preflight

RUN_CONFIG = pytest.StashKey[RunConfig]()
WEBHOOK_SECRET = pytest.StashKey[str | None]()  # [webhooks]' secret, read once per process
LISTENER = pytest.StashKey[Listener]()


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(hookspecs)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("bluum-readiness", "Bluum readiness suite")
    group.addoption(
        "--integration",
        default=None,
        help="the adapter factory under test, MODULE:FACTORY (default: the reference integration)",
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


def resolve_run_config(config: pytest.Config) -> RunConfig:
    """The config file (found in the current directory, or --bluum-config) overridden by this run's options."""
    run = load_config(config.getoption("bluum_config"))
    return run.override(
        target=config.getoption("target"),
        integration=config.getoption("integration"),
        only=config.getoption("only"),
        out=config.getoption("readiness_out"),
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{MARKER}(item): ties a test to a Bluum readiness checklist item")
    try:
        run = resolve_run_config(config)
        webhook_secret = run.webhooks.resolve_secret()  # missing: a usage error, before anything starts
    except ConfigError as exc:
        raise pytest.UsageError(f"bluum-readiness: {exc}") from None
    config.stash[RUN_CONFIG] = run
    config.stash[WEBHOOK_SECRET] = webhook_secret
    complete = bool(config.getoption("checklist_complete")) or config.args_source == pytest.Config.ArgsSource.TESTPATHS
    listener = Listener(config, run, complete=complete)
    config.stash[LISTENER] = listener
    config.pluginmanager.register(listener, "bluum_readiness.listener")
    config.add_cleanup(lambda: config.pluginmanager.unregister(listener))
    config.add_cleanup(stop_on_sigterm())  # SIGTERM stops the run like Ctrl-C, here and in xdist workers
    if not hasattr(config, "workerinput"):
        _share_rate_limiter(config, run)


def _share_rate_limiter(config: pytest.Config, run: RunConfig) -> None:
    """The controller creates the shared limiter's state file; workers find it through the environment."""
    rate = run.effective_rate_limit
    if rate is None or os.environ.get(ENV_VAR):
        return
    limiter = SharedRateLimiter.create(rate)
    os.environ[ENV_VAR] = str(limiter.path)

    def cleanup() -> None:
        os.environ.pop(ENV_VAR, None)
        limiter.remove()

    config.add_cleanup(cleanup)


def _limiter(run: RunConfig) -> SharedRateLimiter | None:
    rate, path = run.effective_rate_limit, os.environ.get(ENV_VAR)
    return SharedRateLimiter(path, rate) if rate is not None and path else None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for test in items:
        for marker in test.iter_markers(MARKER):
            if len(marker.args) != 1:
                raise pytest.UsageError(f"{test.nodeid}: @pytest.mark.checklist takes exactly one item id")
            try:
                checklist_item(marker.args[0])
            except ConfigError as exc:
                raise pytest.UsageError(f"{test.nodeid}: {exc}") from None
    only = config.stash[RUN_CONFIG].only
    if only:
        keep: list[pytest.Item] = []
        drop: list[pytest.Item] = []
        for test in items:
            mark = test.get_closest_marker(MARKER)
            (keep if mark is None or mark.args[0] in only else drop).append(test)
        if drop:
            config.hook.pytest_deselected(items=drop)
            items[:] = keep


def pytest_sessionstart(session: pytest.Session) -> None:
    """Against a real environment, prove it answers and accepts the credentials before running anything."""
    config = session.config
    run = config.stash[RUN_CONFIG]
    if run.embedded or hasattr(config, "workerinput") or config.getoption("no_preflight"):
        return
    try:
        preflight(run.target, run.credentials.resolve())
    except HarnessError as exc:
        pytest.exit(f"bluum-readiness: {exc}", returncode=exc.exit_code)


@pytest.hookimpl(wrapper=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> Iterator[None]:
    """A test that raises NotVerifiable is reported not verifiable (never passed, never failed)."""
    try:
        return (yield)
    except NotVerifiable as exc:
        pytest.skip(f"{NOT_VERIFIABLE_PREFIX} {exc.reason}")


def make_session(run: RunConfig, webhook_secret: str | None = None) -> SuiteSession:
    """The SuiteSession this run's configuration asks for (a twin per process in embedded mode); ``webhook_secret``
    is the [webhooks] endpoint's secret, read once in ``pytest_configure``."""
    limiter = _limiter(run)
    if run.embedded:
        seeded = run.credentials.resolve() if run.credentials.available() else None
        session = SuiteSession.embedded(run.integration, run.thresholds, credentials=seeded, limiter=limiter)
    else:
        session = SuiteSession.against(
            run.target, run.credentials.resolve(), run.integration, run.thresholds, limiter=limiter
        )
    session.run_config = run
    session.webhook_secret = webhook_secret
    return session


@pytest.fixture(scope="session")
def suite_session(request: pytest.FixtureRequest) -> Iterator[SuiteSession]:
    """The target, proxy and integration factory for this run (an embedded twin by default)."""
    run = request.config.stash[RUN_CONFIG]
    session = make_session(run, request.config.stash[WEBHOOK_SECRET])
    request.config.stash[LISTENER].secrets.update(session.secrets())
    _scan_ahead(request, run)
    yield session
    request.config.stash[LISTENER].secrets.update(session.secrets())  # a rotation drill may have changed it
    session.close()


def _scan_ahead(request: pytest.FixtureRequest, run: RunConfig) -> None:
    """The secret scan is CPU work while most checks wait on the network: start it now when this process runs
    the credentials checks (one process only: under xdist the worker that runs them scans when it gets there)."""
    if hasattr(request.config, "workerinput"):
        return
    if any((m := t.get_closest_marker(MARKER)) is not None and m.args[:1] == ("credentials",)
           for t in request.session.items):  # fmt: skip
        from bluum_readiness.credentials.scan import prefetch_scan

        prefetch_scan(run)


@pytest.fixture
def run_check(suite_session: SuiteSession, request: pytest.FixtureRequest) -> Iterator[Callable[[Check], None]]:
    """Run a registered check; its evidence goes to the report; NotVerifiable becomes "not verifiable:" skip."""

    def run(check: Check) -> None:
        evidence: dict[str, Any] = request.node.stash.setdefault(EVIDENCE, {})
        try:
            suite_session.run(check, evidence)
        except NotVerifiable as exc:
            pytest.skip(f"{NOT_VERIFIABLE_PREFIX} {exc.reason}")

    yield run
