"""Ctrl-C or SIGTERM while ``bluum-readiness`` is still starting (importing pytest, uvicorn, the twin: ~0.6 s): one line
and exit 130, as later in the run — never a KeyboardInterrupt traceback out of an import, never a silent 143.

The signal is made to land at a known point of the start-up, deterministically: an import hook sends it to the
process when the subcommand's heavy dependency is first imported."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

LAND_DURING_IMPORT = textwrap.dedent(
    """
    import importlib.abc, os, signal, sys

    class SignalOnImport(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name == {module!r}:
                sys.meta_path.remove(self)
                os.kill(os.getpid(), signal.{signal})
            return None

    sys.meta_path.insert(0, SignalOnImport())
    signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal, even under a backgrounded test run
    from bluum_readiness.cli.main import main
    sys.exit(main({argv!r}))
    """
)


@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM"])
@pytest.mark.parametrize(
    ("module", "argv"),
    [("pytest", ["run", "--out", "out"]), ("uvicorn", ["sandbox", "--port", "0", "--db", ":memory:"])],
    ids=["run", "sandbox"],
)
def test_a_signal_while_the_tool_starts_is_one_line_and_exit_130(tmp_path, sig, module, argv):
    code = LAND_DURING_IMPORT.format(module=module, signal=sig, argv=argv)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BLUUM_", "PYTEST_XDIST", "PYTEST_ADDOPTS"))}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60, env=env
    )
    assert done.returncode == 130, (done.returncode, done.stderr[-2000:])
    assert done.stderr == "bluum-readiness: interrupted\n"
    assert not (tmp_path / "out").exists()  # stopped before anything ran: nothing written


def test_the_entry_module_imports_nothing_heavy():
    """What the console script imports before ``main`` guards the signals: no pytest, uvicorn or twin."""
    heavy = ("pytest", "uvicorn", "httpx", "bluum_readiness.twin")
    code = f"import sys; import bluum_readiness.cli.main; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "[]"


def test_httpx_after_the_package_leaves_out_its_command_line_client():
    """Every process of ours imports httpx after the package: not httpx's own CLI (click, pygments, rich's progress
    bars), ~50 ms of CPU per process; ``httpx.main`` is then httpx's stub, and everything the suite uses works."""
    code = (
        "import sys, bluum_readiness, httpx; "
        "print(sorted(m for m in ('httpx._main', 'pygments', 'rich.progress') if sys.modules.get(m) is not None)); "
        "print(httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(204))).get('http://x').status_code)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.split() == ["[]", "204"]


def test_the_command_line_imports_only_the_chosen_commands_heavy_modules():
    """Building the parser imports every subcommand's module: none of them may import run's pytest and suite or the
    twin's app (``--help`` cost ~0.7 s of CPU when they did); ``main`` imports the chosen command's ``imports``."""
    heavy = ("pytest", "uvicorn", "httpx", "fastapi", "bluum_readiness.twin.app", "bluum_readiness.suite.plugin")
    code = (
        "import sys; from bluum_readiness.cli.main import build_parser; parser = build_parser(); "
        f"parser.parse_args(['init']); print(sorted(m for m in {heavy!r} if m in sys.modules)); "
        "print(sorted(parser.parse_args(['run']).imports))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    nothing, run_imports = done.stdout.strip().splitlines()
    assert nothing == "[]"
    assert "pytest" in run_imports and "bluum_readiness.suite.plugin" in run_imports


def test_sigterm_handling_is_left_as_it_was_after_start_up():
    """The guard is for start-up only: once the command runs, SIGTERM is the subcommand's to handle."""
    from bluum_readiness.cli.main import _starting

    before = signal.getsignal(signal.SIGTERM)
    with _starting():
        pass
    assert signal.getsignal(signal.SIGTERM) is before


LAND_BEFORE_MAIN = textwrap.dedent(
    """
    import importlib.abc, os, signal, sys

    class SignalOnImport(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name == "bluum_readiness.cli.main":
                sys.meta_path.remove(self)
                os.kill(os.getpid(), signal.{signal})
            return None

    signal.signal(signal.SIGINT, signal.default_int_handler)
    import bluum_readiness.cli.entry as entry   # what the console script imports first
    sys.meta_path.insert(0, SignalOnImport())
    sys.exit(entry.main())
    """
)


@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM"])
def test_a_signal_before_main_is_guarded_by_the_console_script(tmp_path, sig):
    """The console script's own module remembers a signal from its first line on (before ``cli.main`` is even
    imported): exit 130, one line."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BLUUM_", "PYTEST_XDIST", "PYTEST_ADDOPTS"))}
    done = subprocess.run(
        [sys.executable, "-c", LAND_BEFORE_MAIN.format(signal=sig)],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip
    assert (done.returncode, done.stderr) == (130, "bluum-readiness: interrupted\n")


def test_the_console_script_is_the_guarded_entry():
    from importlib.metadata import entry_points

    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "bluum-readiness"]
    assert script.value == "bluum_readiness.cli.entry:main"
