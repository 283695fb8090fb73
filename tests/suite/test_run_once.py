"""One run, resolved once and handed down; a plugin that stays out of the way.

- ``bluum-readiness run -n 2`` reads a ``command`` credential source exactly once (the xdist workers get the run
  from the controller, and nothing re-reads it per printed line);
- a pytest run that asked for no readiness run — an unrelated test in a project whose pyproject.toml configures
  bluum-readiness, even badly — reads no configuration, preflights nothing, reports nothing, and does not import
  the checks, the harness or the twin (~0.4 s of CPU a pytest process);
- a collected checklist test activates the run by itself.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from bluum_readiness.integration import Credentials
from bluum_readiness.run import Run
from bluum_readiness.suite.paths import plugin_args
from tests.fixtures.plugins import OTHER_PLUGINS_OFF

pytest_plugins = ["pytester"]

COUNTING_SOURCE = """
import pathlib, sys
with pathlib.Path(sys.argv[1]).open("a") as reads:
    reads.write("read\\n")
print(pathlib.Path(sys.argv[2]).read_text())
"""


def test_a_command_source_is_read_once_for_a_whole_parallel_run(tmp_path: Path) -> None:
    secret = secrets.token_hex(32)
    key = f"test_bluum_{secrets.token_hex(32)}"
    (tmp_path / "source.py").write_text(COUNTING_SOURCE, encoding="utf-8")
    (tmp_path / "vault").mkdir()
    (tmp_path / "vault" / "secret").write_text(secret, encoding="utf-8")  # a stand-in for a secret manager
    (tmp_path / "bluum-readiness.toml").write_text(
        f'[credentials]\nsource = "command"\nkey = "{key}"\n'
        f'command = "{sys.executable} source.py {tmp_path / "reads.txt"} {tmp_path / "vault" / "secret"}"\n'
        '[scan]\nexclude = ["vault"]\n',
        encoding="utf-8",
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("BLUUM_", "PYTEST_XDIST", "PYTEST_ADDOPTS"))}
    clean.pop("CI", None)  # the demonstration (no integration configured) runs outside CI only
    result = subprocess.run(
        [sys.executable, "-m", "bluum_readiness.cli.main", "run", "--only", "smoke-test", "--only", "credentials",
         "-n", "2", "--out", "out"],
        cwd=tmp_path, capture_output=True, text=True, env=clean, timeout=240,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "reads.txt").read_text().splitlines() == ["read"]
    everything = result.stdout + result.stderr + "".join(p.read_text() for p in (tmp_path / "out").glob("*.*")
                                                         if p.suffix in (".json", ".md", ".log", ".xml"))  # fmt: skip
    assert secret not in everything


def test_the_run_crosses_to_a_worker_whole() -> None:
    pair = Credentials(f"test_bluum_{'a' * 64}", "s" * 40)
    original = Run(credentials=pair, webhook_secret="whsec_x")
    original.secrets.add_pair(pair)
    crossed = Run.from_wire(original.to_wire())
    assert crossed == original and set(crossed.secrets) == set(original.secrets)


UNRELATED = """
import sys


def test_arithmetic():
    assert 1 + 1 == 2


def test_the_plugin_imports_nothing_a_readiness_run_needs():
    # the plugin is loaded (its entry point, or -p) in every pytest run where bluum-readiness is installed
    assert "bluum_readiness.suite.plugin" in sys.modules
    heavy = ("bluum_readiness.checks", "bluum_readiness.harness", "bluum_readiness.twin.app", "httpx")
    assert [m for m in heavy if m in sys.modules] == []
"""


def test_an_unrelated_test_run_is_left_alone(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml(
        '[tool.bluum-readiness]\ntarget = "https://nowhere.invalid/v1"\n[tool.bluum-readiness.credentials]\n'
        'source = "file"\npath = "missing-secret"\n'
    )
    pytester.makepyfile(test_unrelated=UNRELATED)
    result = pytester.runpytest_subprocess(*plugin_args(), "-p", "no:cacheprovider", *OTHER_PLUGINS_OFF)
    assert result.ret == pytest.ExitCode.OK, result.stdout.str() + result.stderr.str()
    result.assert_outcomes(passed=2)
    output = result.stdout.str() + result.stderr.str()
    assert "bluum-readiness:" not in output and "verdict" not in output  # no error, no report section
    assert not (pytester.path / "readiness-out").exists()


def test_a_collected_checklist_test_activates_the_run_by_itself(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_suite='import pytest\n\n@pytest.mark.checklist("idempotency")\ndef test_x():\n    """A check."""\n'
    )
    result = pytester.runpytest_subprocess(*plugin_args(), "-p", "no:cacheprovider", *OTHER_PLUGINS_OFF)
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    result.stdout.fnmatch_lines(["*bluum-readiness*", "*passed  idempotency*", "verdict: PASSED*"])
