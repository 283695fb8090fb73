"""``bluum-readiness run`` with an ``exec:`` integration, as a user runs it: a Node program named in the config
file, its stderr kept (redacted) as evidence, and programs that cannot start reported before anything runs."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path

import pytest

from bluum_readiness.cli.main import main
from tests.fixtures.cli import Result, cli

ROOT = Path(__file__).resolve().parents[2]
ACME = ROOT / "tests" / "integrations" / "node" / "acme_adapter.mjs"
UNSCRUBBED_BASIC = re.compile(r"Basic [A-Za-z0-9+/]{16,}={0,2}")


def _in_this_process(
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    cwd: Path,
    *args: str,
    env: dict[str, str] | None = None,
) -> Result:
    """``bluum-readiness run ARGS`` through ``main`` in the test's process, in ``cwd``, with the environment a user's
    shell gives it; its console captured at the file descriptors (the integration program's output included)."""
    for name in [k for k in os.environ if k.startswith(("BLUUM_", "PYTEST_XDIST", "PYTEST_ADDOPTS"))]:
        monkeypatch.delenv(name)
    for name, value in (env or {}).items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(cwd)
    code = main(["run", *args])
    captured = capfd.readouterr()
    return Result(code, captured.out, captured.err)


@pytest.fixture
def node() -> str:
    found = shutil.which("node")
    if found is None:
        pytest.fail("node is not on PATH: install Node 18+ (CI installs Debian's nodejs)")
    return found


def test_a_node_integration_named_in_the_config_runs_and_its_stderr_is_kept_redacted(  # type: ignore[no-untyped-def]
    tmp_path: Path, node, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    secret = "seeded-secret-0123456789abcdef"
    (tmp_path / "bluum-readiness.toml").write_text(
        f'integration = "exec:{node} {ACME} --variant=logs-secret"\nonly = ["credentials"]\n', encoding="utf-8"
    )
    env = {"BLUUM_API_KEY": "seeded-key", "BLUUM_API_SECRET": secret}
    result = _in_this_process(monkeypatch, capfd, tmp_path, "--out", "out", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads((tmp_path / "out" / "readiness.json").read_text())
    assert report["integration"].startswith("exec:")
    checks = {c["id"]: c for item in report["items"] for c in item["checks"]}
    [kept] = checks["credentials.secret-source"]["evidence"]["integration_stderr"]
    assert kept["program"] == "acme-bluum-logs-secret" and kept["lines"] > 0
    assert any('"msg":"bluum request headers"' in line and "Basic ***" in line for line in kept["tail"])
    everything = result.stdout + result.stderr
    everything += "".join(p.read_text(errors="replace") for p in (tmp_path / "out").rglob("*") if p.is_file()
                          and p.suffix in (".json", ".html", ".md", ".xml", ".txt", ".log"))  # fmt: skip
    assert secret not in everything
    assert not UNSCRUBBED_BASIC.search(everything), UNSCRUBBED_BASIC.search(everything)


def _refused(*args: str, cwd: Path, monkeypatch: pytest.MonkeyPatch) -> Result:
    """As ``_run``, in this process (tests/fixtures/cli.py), for a run refused before any check."""
    monkeypatch.chdir(cwd)
    unset: dict[str, str | None] = {k: None for k in os.environ if k.startswith(("BLUUM_", "PYTEST_XDIST"))}
    return cli("run", *args, env=unset)


def test_a_command_that_is_not_there_is_a_usage_error_before_anything_runs(tmp_path: Path, monkeypatch) -> None:
    missing = "exec:no-such-runtime adapter.js"
    result = _refused("--integration", missing, "--out", "out", cwd=tmp_path, monkeypatch=monkeypatch)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "bluum-readiness: error: integration 'exec:no-such-runtime adapter.js': 'no-such-runtime' is not on PATH; "
        "install it or give its full path"
    ]
    assert not (tmp_path / "out").exists()


def test_a_program_that_dies_at_start_is_reported_with_its_exit_status_and_stderr(
    tmp_path: Path, node, monkeypatch
) -> None:
    dies = f"exec:{node} missing_adapter.mjs"
    result = _refused("--integration", dies, "--out", "out", cwd=tmp_path, monkeypatch=monkeypatch)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "exited (exit status 1)" in result.stderr and "Cannot find module" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("variant", "item", "met"),
    [
        ("stray-stdout-in-deposit", "idempotency", "observing the `"),  # met side by side, before the item's checks
        ("crash-on-deposit", "lifecycle", "the integration program `"),  # met by the check itself
    ],
    ids=["stray-stdout-side-by-side", "crash-in-a-check"],
)
def test_a_program_that_breaks_the_protocol_mid_run_stops_the_run_at_once_with_exit_2(
    tmp_path: Path,
    variant: str,
    item: str,
    met: str,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """One stray print to stdout in deposit() made 19 checks *broken* ("harness error") and the run went on for 29 s:
    the run stops at the first check that meets it — or, when the scenarios observed side by side from the run's
    start met it first, at the first check after them — with one line naming the check and what the program did,
    exit 2 as at start-up; readiness.json records the checks that finished, that one not verifiable.

    In this process (``main``, its console captured at the file descriptors, the program's included): what is
    asserted is the run's own handling of the broken program (a subprocess of the run either way); the console
    command's process and its supervisor add nothing here (test_interrupt.py and test_no_lost_record.py run them).
    One item each: ``idempotency`` starts its side-by-side scenarios (two programs), ``lifecycle`` none."""
    program = ROOT / "tests" / "integrations" / "program" / "python_adapter.py"
    integration = f"exec:{sys.executable} {program} --variant={variant}"
    result = _in_this_process(monkeypatch, capfd, tmp_path, "--integration", integration, "--only", item,
                              "--out", "out")  # fmt: skip
    assert result.returncode == 2, result.stdout + result.stderr
    line = next(x for x in result.stderr.splitlines() if "the run stopped" in x)
    assert line.startswith("bluum-readiness: error: the run stopped: the integration program broke the adapter "
                           f"protocol during {item}."), result.stderr  # fmt: skip
    assert f": {met}" in line, line
    assert line.endswith("records the checks that finished"), line
    assert "Traceback" not in result.stderr
    record = json.loads((tmp_path / "out" / "readiness.json").read_text())
    assert record["verdict"] == "interrupted"
    checks = [c for i in record["items"] for c in i["checks"]]
    stopped = [c for c in checks if "broke the adapter protocol" in c.get("reason", "")]
    assert len(stopped) == 1 and stopped[0]["status"] == "not_verifiable", stopped
    assert not [c for c in checks if c["status"] == "broken"]
    assert len(checks) < 3, [c["id"] for c in checks]  # it stopped: not the item's other checks (4 and 6 of them)


def test_a_program_named_relative_to_a_config_in_another_folder_says_where_commands_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """A monorepo's CI runs from the root with ``--config services/payments/bluum-readiness.toml``; the program
    named ``adapter.py`` there is not found from the root. The program's own complaint, then where exec: commands
    start and where the config file is."""
    service = tmp_path / "services" / "payments"
    service.mkdir(parents=True)
    (service / "adapter.py").write_text("raise SystemExit('never run from here')\n", encoding="utf-8")
    (service / "bluum-readiness.toml").write_text(f'integration = "exec:{sys.executable} adapter.py"\n')
    result = _in_this_process(monkeypatch, capfd, tmp_path, "--config", "services/payments/bluum-readiness.toml",
                              "--only", "smoke-test", "--out", "out")  # fmt: skip
    assert result.returncode == 2, result.stdout + result.stderr
    assert "can't open file" in result.stderr and "adapter.py" in result.stderr
    assert f"started (exec:) or imported in the current folder ({tmp_path.resolve()}), not in the folder of" in (
        result.stderr
    )
    assert f"bluum-readiness.toml ({service.resolve()})" in result.stderr and "Traceback" not in result.stderr
