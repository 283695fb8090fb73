"""``bluum-readiness run``: run the readiness suite against the team's integration and write the report.

readiness.json comes from the suite's listener; then ``report.render_all`` writes the HTML, PDF, Markdown, JUnit,
Allure and email files from it into the same folder (docs/reports.md).

The suite runs in-process through ``pytest.main`` (so ``pytest`` in a checkout runs the very same thing); pytest's
own output goes to ``OUT/pytest.log`` and the console shows per-check progress and a summary instead. pytest loads
the installed plugins by name (``-p``, autoloading off for the run) except the few a readiness run never uses
(``UNUSED_PLUGINS``): they cost ~1.5 s of start-up, and autoloading would have pytest rewrite the assertions of every
module of every plugin's distribution (hypothesis's too, which a check imports).
Exit codes: 0 no failure (verdict ``ready``, or ``passed`` for a subset or a run not fully verified), 1 a required
item failed (or nothing could be verified, or the run ended without a complete record), 2 usage or configuration
error (``--out`` empty, not writable or in use by another run included, checked before anything runs; no
integration configured under CI), 3 target unreachable or credentials rejected, 130 interrupted (Ctrl-C or SIGTERM:
the run stops, writes an interrupted readiness.json and the reports, and no email).

Before anything runs, the run takes ``--out``'s lock (``cli._lock``: a second run into the same folder is refused)
and clears the files an earlier run left there. With no integration configured the run is a demonstration of the
bundled reference integration (labelled as such everywhere, no email); under CI it is refused instead. Hypothesis
keeps its files under the user's cache folder, never in the working directory. ``--phase`` picks the checklist's
readiness items, its cut-over items, or both; against Bluum's production only the read-only smoke test may run.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
import os
import sys
import threading
from collections.abc import Callable, Iterator
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bluum_readiness.cli._guards import (
    PHASES,
    RecordMissing,
    caches_outside_the_project,
    empty_out,
    no_demonstration_under_ci,
    with_phase,
)
from bluum_readiness.cli._lock import OutLock, clear_outputs
from bluum_readiness.cli._out import writable_folder
from bluum_readiness.cli._supervise import notify
from bluum_readiness.config import CompanyConfig, RunConfig, load_config
from bluum_readiness.errors import ConfigError, TargetUnavailable
from bluum_readiness.integration import IntegrationError, load_factory
from bluum_readiness.suite.paths import PLUGIN, SUITE_FOLDERS, suite_ini, suite_root
from bluum_readiness.target import parse_target

HEAVY = (
    "pytest",
    "bluum_readiness.suite.plugin",
    "bluum_readiness.suite.session",
    "bluum_readiness.cli.console",
    "bluum_readiness.report.model",
    "bluum_readiness.protocol",
)
"""pytest, the suite's plugin and listener (the checks, the harness, the twin, the proxy), the console's tables and
the report's schema (~0.5 s of CPU together): imported by ``main`` once ``run`` is the command (under its start-up
signal guard), not when the command line is built — every other command (``--help``, ``init``, ``sandbox``,
``report``, …) builds this command's parser too. The functions below import them by name where they use them."""

if TYPE_CHECKING:
    from bluum_readiness.report.render import Rendered
    from bluum_readiness.run import Run
    from bluum_readiness.suite.results import RunReport


def add_parser(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "run",
        help="run the readiness suite against your integration and write readiness.json",
        description="Run every check of the Bluum readiness checklist against the integration adapter "
        "(--integration), through the fault proxy, against the embedded sandbox twin or a real Bluum "
        "environment (--target). Settings come from bluum-readiness.toml or [tool.bluum-readiness] in "
        "pyproject.toml in the current directory (or --config); flags override them. With no integration "
        "configured it demonstrates the bundled reference integration (refused under CI). Exit codes: 0 no failure "
        "(READY only when the five readiness items ran and passed), 1 an item failed or no complete record was "
        "written, 2 usage or configuration error, 3 target unreachable or credentials rejected, 130 interrupted.",
    )
    p.add_argument("--config", metavar="FILE", help="the configuration file (default: ./bluum-readiness.toml)")
    p.add_argument(
        "--target", help="'embedded' (default) or the API base URL, e.g. https://sandbox.api.bluumfinance.com/v1"
    )
    p.add_argument("--integration", metavar="MOD:FACTORY", help="the adapter factory (default: the reference)")
    p.add_argument(
        "--only", action="append", metavar="ITEM", help="run only this checklist item (repeatable, or comma-separated)"
    )
    p.add_argument(
        "--phase",
        choices=PHASES,
        default="all",
        help="the checklist's readiness items (what the production-access request confirms), its cut-over items "
        "(rehearsed before access; against production: the read-only smoke test), or all (default)",
    )
    p.add_argument("-n", dest="workers", metavar="N|auto", help="run in N processes (pytest-xdist), or 'auto'")
    p.add_argument("--out", metavar="DIR", help="where the report files go (default: ./readiness-out)")
    p.set_defaults(handler=run, imports=HEAVY)


def resolve(args: argparse.Namespace) -> RunConfig:
    """The file's settings overridden by the flags, validated (ConfigError: exit 2)."""
    config = load_config(args.config)
    config = config.override(
        target=args.target, integration=args.integration, only=args.only, workers=args.workers, out=args.out
    )
    return with_phase(config, getattr(args, "phase", "all") or "all")


def _importable_here() -> None:
    """Adapters live in the team's project: make the current directory importable, here and in xdist workers."""
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    parts = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if cwd not in parts:
        os.environ["PYTHONPATH"] = os.pathsep.join([cwd, *parts])


ALERTS_ITEM = "observability"  # the item of the alert checks, which read [alerts]
AUTOLOAD_ENV = "PYTEST_DISABLE_PLUGIN_AUTOLOAD"
ADDOPTS_ENV = "PYTEST_ADDOPTS"
# pytest plugins installed with the suite (for the project's own tests) that a readiness run never uses, by entry
# point name: schemathesis (~1 s: it imports hypothesis, requests, …), hypothesis's and anyio's test plugins, and
# xdist's deprecated looponfail. xdist itself stays: -n needs it and the listener implements its hooks.
UNUSED_PLUGINS = frozenset({"schemathesis", "hypothesispytest", "anyio", "xdist.looponfail"})


def plugin_args() -> list[str]:
    """``-p NAME`` for every installed pytest plugin (``pytest11`` entry point) but ``UNUSED_PLUGINS``, in pytest's
    own loading order, for a run with autoloading off (``_no_autoload``): a team's own plugins still load. When
    autoloading was already off (``PYTEST_DISABLE_PLUGIN_AUTOLOAD`` set by the user), only the suite's plugin and
    xdist."""
    user_off = bool(os.environ.get(AUTOLOAD_ENV))
    names: list[str] = []
    ours = False
    for entry in metadata.entry_points(group="pytest11"):
        ours = ours or entry.value == PLUGIN
        keep = (entry.value == PLUGIN or entry.name == "xdist") if user_off else entry.name not in UNUSED_PLUGINS
        if keep and entry.name not in names:
            names.append(entry.name)
    if not ours:  # a checkout that is not installed: the plugin by its module
        names.append(PLUGIN)
    return [arg for name in names for arg in ("-p", name)]


@contextlib.contextmanager
def _no_autoload() -> Iterator[None]:
    """pytest loads only the plugins ``plugin_args`` names, here and in the xdist workers it starts (they inherit
    the environment), and takes no options from ``PYTEST_ADDOPTS`` (``_addopts_note``); both variables are restored
    afterwards."""
    before = {name: os.environ.get(name) for name in (AUTOLOAD_ENV, ADDOPTS_ENV)}
    os.environ[AUTOLOAD_ENV] = "1"
    os.environ.pop(ADDOPTS_ENV, None)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _addopts_note(scrub: Callable[[str], str]) -> str | None:
    """The line that says ``PYTEST_ADDOPTS`` is left out of the run, when it is set. A CI runner sets it for its own
    tests; the run takes no pytest options from the project (its own settings file: a pytest config in the project
    does not apply either), so ``--collect-only`` or ``-x`` there cannot empty or cut the run, nor ``-k`` choose its
    checks (``--only`` and ``--phase`` choose items)."""
    value = os.environ.get(ADDOPTS_ENV, "").strip()
    if not value:
        return None
    return (
        f"bluum-readiness: {ADDOPTS_ENV} ({scrub(value)!r}) is not applied to the readiness run; choose items with "
        "--only or --phase"
    )


def render_all(document: dict[str, Any], out_dir: str | Path, company: CompanyConfig | None) -> Rendered:
    """``report.render.render_all``, imported on first use: the renderers (fpdf, jinja2: ~0.25 s) are imported while
    the checks run (``_warm_imports_plugin``), not before the suite starts."""
    from bluum_readiness.report.render import render_all as render

    return render(document, out_dir, company)


def _warm_imports(lifecycle: bool) -> None:
    """Hypothesis (~0.15 s), which lifecycle.money-invariants imports when it starts, if this process runs it; then
    the renderers."""
    if lifecycle:
        with contextlib.suppress(Exception):  # an import error shows where the module is used, with its message
            import hypothesis.strategies  # noqa: F401
    with contextlib.suppress(Exception):
        import bluum_readiness.report.render  # noqa: F401


def _warm_imports_plugin() -> object:
    """A pytest plugin object: once the checks start, import what the run needs later (Hypothesis for the money
    invariants, the report renderers) in a background thread — CPU work that overlaps the first checks' network
    waits instead of adding to the run's wall time. Hypothesis only where the lifecycle checks run: not under
    ``-n`` (this process then runs no check: the xdist workers do) nor when ``--only`` leaves them out."""
    import pytest

    from bluum_readiness.suite.listener import MARKER

    class WarmImports:
        @pytest.hookimpl(tryfirst=True)
        def pytest_runtestloop(self, session: pytest.Session) -> None:
            lifecycle = any(
                (mark := test.get_closest_marker(MARKER)) is not None and mark.args[:1] == ("lifecycle",)
                for test in session.items
            )
            threading.Thread(target=_warm_imports, args=(lifecycle,), name="warm-imports", daemon=True).start()

    return WarmImports()


def _started_elsewhere(config: RunConfig) -> str:
    """A hint for an integration that could not be loaded or started, when the configuration came from another
    folder (``--config services/payments/bluum-readiness.toml`` from a monorepo's root): an ``exec:`` command starts,
    and a module is imported, in the current folder, not the config file's."""
    source = config.source_file
    if source is None:
        return ""
    here, there = Path.cwd().resolve(), source.resolve().parent
    if here == there:
        return ""
    return (
        f"\n  the integration is started (exec:) or imported in the current folder ({here}), not in the folder of "
        f"{source.name} ({there}): run from there, or give its path as seen from here"
    )


def pytest_args(config: RunConfig) -> list[str]:
    """pytest's own arguments: the suite's folders and settings, the plugins to load (run it under ``_no_autoload``),
    where readiness.json goes, and -n. Everything else about the run travels in the ``Run`` handed to the plugin
    (``RunHolder``), not as arguments to re-read."""
    root = suite_root()
    args = [str(root / name) for name in SUITE_FOLDERS if (root / name).is_dir()]
    args += ["-c", str(suite_ini()), "--rootdir", str(root), "--confcutdir", str(root), *plugin_args()]
    args += ["-q", "--checklist-complete", "--readiness-out", config.out]
    if config.workers:
        args += ["-n", str(config.workers)]
    return args


def run(args: argparse.Namespace) -> int:
    from bluum_readiness.suite.listener import stop_on_sigterm

    restore = stop_on_sigterm()  # SIGTERM stops the run as Ctrl-C does (exit 130, an interrupted record)
    try:
        return _run(args)
    finally:
        restore()


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity where the system tells it, else the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not on Linux
        return max(1, os.cpu_count() or 1)


def selected_checks(config: RunConfig) -> int:
    """How many checks the run has (those of ``only``, or every registered check)."""
    from bluum_readiness.checks import registry

    items = set(config.only)
    return sum(1 for check in registry if not items or check.item in items)


def capped_workers(config: RunConfig) -> RunConfig:
    """``config`` with ``workers`` at most the CPUs this process may use and the checks it will run: each xdist
    worker is a whole Python process (~55 MB, ~1 s of start-up) with its own twin and proxy, so more of them only
    cost memory and start-up (``-n 99999`` once started 41 and ran no check). Says so on stderr when it caps."""
    requested = config.workers
    if not isinstance(requested, int) or requested <= 1:
        return config
    cpus, checks = usable_cpus(), selected_checks(config)
    cap = max(1, min(cpus, checks))
    if requested <= cap:
        return config
    why = f"this machine gives the run {cpus} CPU{'s' if cpus != 1 else ''}"
    if checks < cpus:
        why = f"the run has {checks} check{'s' if checks != 1 else ''}"
    print(
        f"bluum-readiness: -n {requested} is more processes than useful ({why}); running {cap}"
        + ("" if cap > 1 else " (no worker processes)"),
        file=sys.stderr,
    )
    return dataclasses.replace(config, workers=cap if cap > 1 else 0)


def serial_for_alerts(config: RunConfig) -> RunConfig:
    """``config`` without worker processes when ``[alerts]`` is configured and the run has an alert check: the team's
    metrics are the whole integration's, so another worker's fault storm (5xx, 429) would reach them during an alert
    check's quiet watch and read as a false alarm. Says so on stderr when it changes the run (docs/alerts.md)."""
    if not config.workers or config.alerts is None or (config.only and ALERTS_ITEM not in config.only):
        return config
    print(
        f"bluum-readiness: -n {config.workers} ignored: [alerts] is configured, and the alert checks need the run to "
        "themselves (another worker's 5xx and 429 would reach your monitoring during their quiet watch); running "
        "without worker processes (docs/alerts.md)",
        file=sys.stderr,
    )
    return dataclasses.replace(config, workers=0)


def _run(args: argparse.Namespace) -> int:
    config = serial_for_alerts(capped_workers(resolve(args)))
    empty_out(config)
    writable_folder(config.out)  # an unwritable --out is a usage error now, not a traceback after the run
    no_demonstration_under_ci(args, config)
    lock = OutLock(config.out).acquire()  # a second run into this --out is refused, never overwritten silently
    try:
        clear_outputs(config.out)  # no file of an earlier run is ever left beside this run's record
        notify("out", Path(config.out).resolve())
        with caches_outside_the_project():
            return _locked_run(config)
    finally:
        lock.release()


def _locked_run(config: RunConfig) -> int:
    import pytest

    from bluum_readiness.cli.console import ConsoleReporter
    from bluum_readiness.protocol import ProgramFactory
    from bluum_readiness.report.model import load_report
    from bluum_readiness.report.printable import well_formed
    from bluum_readiness.suite.listener import CONFIG_MARK, STOPPED
    from bluum_readiness.suite.plugin import RunHolder
    from bluum_readiness.suite.session import preflight

    _importable_here()
    try:
        factory = load_factory(config.integration)  # a bad adapter is a usage error before anything starts
        if isinstance(factory, ProgramFactory):
            factory.probe()  # an exec: program that cannot start or speak the protocol says so before the run
    except (IntegrationError, ConfigError) as exc:  # a module not found, a program that could not start
        hint = _started_elsewhere(config)
        if not hint:
            raise
        raise type(exc)(f"{exc}{hint}") from None
    run = _resolved(config)  # credentials and the webhook secret, read from their sources once for the whole run
    if run.target is not None:
        preflight(run.target.base_url, run.credentials)
    note = _addopts_note(run.secrets.scrub)
    if note is not None:
        print(note, file=sys.stderr)
    reporter = ConsoleReporter(sys.stdout, secrets=run.secrets)
    reporter.start(config)
    log = io.StringIO()
    argv = pytest_args(config)
    with _no_autoload(), contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
        code = pytest.main(argv, plugins=[reporter, RunHolder(run), _warm_imports_plugin()])
    log_text = well_formed(run.secrets.scrub(log.getvalue()))
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "pytest.log").write_text(log_text, encoding="utf-8")
    report = reporter.report
    stopped = reporter.config.stash.get(STOPPED, None) if reporter.config is not None else None
    if stopped is not None:  # the integration program broke the adapter protocol mid-run: as at start-up, exit 2
        if stopped.startswith(CONFIG_MARK):  # the configuration contradicts what the run saw
            raise ConfigError(stopped.removeprefix(CONFIG_MARK))
        what, _, tail = stopped.partition("\n")  # the first line says it all; the program's last stderr lines follow
        raise IntegrationError(
            f"the run stopped: the integration program broke the adapter protocol during {what} — fix the program "
            "(stdout carries only JSON-RPC responses, logs go to stderr, it runs until stdin closes) and run again; "
            f"{out / 'readiness.json'} records the checks that finished" + (f"\n{tail}" if tail else "")
        )
    if report is None and code == pytest.ExitCode.INTERRUPTED:
        raise KeyboardInterrupt  # stopped before the suite could record anything: main() exits 130
    if report is None or code in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.INTERNAL_ERROR):
        tail = "\n".join(log_text.strip().splitlines()[-15:])
        print(tail, file=sys.stderr)
        if "TargetUnavailable" in log_text:
            raise TargetUnavailable(f"the target stopped answering during the run; see {out / 'pytest.log'}")
        raise ConfigError(f"the suite could not run (pytest exit {int(code)}); see {out / 'pytest.log'}")
    json_path = (out / "readiness.json").resolve()
    if not json_path.is_file():
        raise RecordMissing(
            f"the suite ended without writing {json_path} (see {out / 'pytest.log'}); nothing of this run is recorded"
        )
    try:
        rendered = render_all(load_report(json_path), out, config.company)
        files, note = rendered.files, rendered.email_skipped
    except Exception as exc:  # a rendering bug must not hide the verdict: readiness.json is already complete
        files, note = [], None
        why = run.secrets.scrub(str(exc))
        print(
            f"bluum-readiness: rendering the report failed ({type(exc).__name__}: {why}); "
            f"{json_path} is complete — re-render with `bluum-readiness report {json_path} --out {out}` "
            "and please report this as a bug",
            file=sys.stderr,
        )
    reporter.summary(report, json_path, files, note)
    return exit_code(report)


def _resolved(config: RunConfig) -> Run:
    """The run, its sources read once; against a real environment an unreachable target says so (exit 3) before a
    missing credential does (exit 2)."""
    from bluum_readiness.run import Run
    from bluum_readiness.suite.session import preflight

    try:
        return Run.resolve(config)
    except ConfigError:
        remote = parse_target(config.target)
        if remote is not None:
            preflight(remote.base_url, None)
        raise


def exit_code(report: RunReport) -> int:
    """0 no failure (``ready``, ``passed``), 130 interrupted, 3 the target stopped answering, else 1."""
    if report.verdict in ("ready", "passed"):
        return 0
    if report.verdict == "interrupted":
        return 130
    if any("TargetUnavailable" in (c.message or "") for c in report.broken):
        return 3
    return 1
