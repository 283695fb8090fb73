"""Which pytest plugins ``bluum-readiness run`` loads: every installed one (a team's own too) but those a readiness
run never uses (``UNUSED_PLUGINS``: ~1.5 s of start-up), with autoloading off only for the run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from bluum_readiness.cli import run as run_command
from bluum_readiness.cli.run import AUTOLOAD_ENV, UNUSED_PLUGINS, plugin_args

ROOT = Path(__file__).resolve().parents[2]


def _names(args: list[str]) -> list[str]:
    assert args[::2] == ["-p"] * (len(args) // 2), args
    return args[1::2]


def test_every_installed_plugin_but_the_unused_ones_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(AUTOLOAD_ENV, raising=False)
    installed = {entry.name for entry in metadata.entry_points(group="pytest11")}
    names = _names(plugin_args())
    assert {"bluum_readiness", "xdist"} <= set(names)
    assert set(names) == installed - UNUSED_PLUGINS
    assert len(names) == len(set(names))


def test_autoloading_turned_off_by_the_user_loads_only_the_suite_and_xdist(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(AUTOLOAD_ENV, "1")
    assert _names(plugin_args()) == ["bluum_readiness", "xdist"]


@pytest.mark.parametrize("before", [None, "yes"])
def test_autoloading_is_off_during_the_run_only(monkeypatch: pytest.MonkeyPatch, before: str | None) -> None:
    if before is None:
        monkeypatch.delenv(AUTOLOAD_ENV, raising=False)
    else:
        monkeypatch.setenv(AUTOLOAD_ENV, before)
    with run_command._no_autoload():
        assert os.environ[AUTOLOAD_ENV] == "1"
    assert os.environ.get(AUTOLOAD_ENV) == before


TEAM_PLUGIN = """
import json, os, sys

def pytest_readiness_check(config, result):
    with open(os.environ["TEAM_PLUGIN_OUT"], "a") as out:
        out.write(json.dumps({"check": result.id, "loaded": sorted(
            m for m in ("schemathesis", "_hypothesis_pytestplugin", "anyio.pytest_plugin", "xdist.looponfail")
            if m in sys.modules)}) + "\\n")
"""


def test_a_teams_own_plugin_still_loads_and_the_unused_ones_do_not(tmp_path: Path) -> None:
    """A team's plugin installed with a ``pytest11`` entry point (here a sink for the suite's hook) is loaded by
    ``run`` as pytest would load it; schemathesis, hypothesis's, anyio's and looponfail are not imported at all."""
    site = tmp_path / "site"
    dist = site / "team_sink-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: team-sink\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[pytest11]\nteam_sink = team_sink\n")
    (site / "team_sink.py").write_text(TEAM_PLUGIN)
    out = tmp_path / "sink.jsonl"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BLUUM_", "PYTEST_"))}
    env.pop("CI", None)  # the demonstration (no integration configured) runs outside CI only
    env.update(PYTHONPATH=os.pathsep.join([str(site), env.get("PYTHONPATH", "")]), TEAM_PLUGIN_OUT=str(out))
    result = subprocess.run(
        [sys.executable, "-m", "bluum_readiness.cli.main", "run", "--only", "smoke-test", "--out", str(tmp_path / "o")],
        cwd=tmp_path, capture_output=True, text=True, env=env, timeout=240,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["check"] for line in lines] == ["smoke-test.read-only-200"], lines
    assert lines[0]["loaded"] == [], lines
