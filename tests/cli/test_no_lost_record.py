"""No green by accident, no lost record, nothing left behind: ``bluum-readiness run`` as a user or a CI job runs it.

- with no integration configured the run is a labelled demonstration (no email); under CI it is refused (exit 2);
- a run whose process ends without a complete readiness.json exits non-zero and says why (the supervising parent);
- a worker that dies leaves a complete record with its check broken;
- an empty ``--out`` is a usage error; a second run into an ``--out`` in use is refused; a stale lock is recovered;
- files of an earlier run never stay beside a new record;
- Hypothesis writes under the user's cache folder, not the working directory (checked by
  tests/report/test_combine.py's end-to-end runs, which run the money-invariants check).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bluum_readiness.cli._lock import LOCK_NAME
from bluum_readiness.cli.main import main
from tests.fixtures.cli import Result, cli

ROOT = Path(__file__).resolve().parents[2]
COMPANY = """[company]
name = "Acme Invest"
dashboard_email = "ops@acme.example"
product_description = "Robo-advisor app"
integration_model = "server-to-server"
"""
EXITING_ADAPTER = "import os\nos._exit(0)\n"
DYING_WORKER = """import os
from bluum_readiness.reference import create_fast


def create(env, **options):
    if os.environ.get("PYTEST_XDIST_WORKER"):
        os._exit(0)  # the worker running the check dies
    return create_fast(env, **options)
"""


def _cli(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("BLUUM_", "PYTEST_XDIST", "PYTEST_ADDOPTS"))}
    clean.pop("CI", None)
    clean.pop("HYPOTHESIS_STORAGE_DIRECTORY", None)
    return subprocess.run([sys.executable, "-m", "bluum_readiness.cli.main", *args], cwd=cwd, capture_output=True,
                          text=True, env={**clean, **(env or {})}, timeout=240)  # fmt: skip


def test_under_ci_a_run_without_an_integration_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # refused before anything runs: in this process (tests/fixtures/cli.py)
    unset: dict[str, str | None] = {k: None for k in os.environ if k.startswith(("BLUUM_", "PYTEST_XDIST"))}
    result = cli("run", env={**unset, "CI": "true"})
    assert result.returncode == 2, result.stdout + result.stderr
    assert "no integration configured: run `bluum-readiness init`" in result.stderr
    assert "checking" not in result.stdout and not (tmp_path / "readiness-out").exists()


@pytest.mark.parametrize(("ci", "refused"), [("1", True), ("yes", True), ("false", False), ("0", False)])
def test_which_ci_values_refuse_the_demonstration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], ci: str, refused: bool
) -> None:
    from bluum_readiness.cli import _guards

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CI", ci)
    if refused:
        assert main(["run"]) == 2 and "no integration configured" in capsys.readouterr().err
    else:
        assert _guards.ci() is False
    assert main(["run", "--integration", "bluum_readiness.reference:create_fast", "--out", ""]) == 2, (
        "named explicitly, the reference may run under CI (a labelled demonstration): here --out stops it"
    )
    assert "no integration configured" not in capsys.readouterr().err


def test_outside_ci_a_run_without_an_integration_is_a_labelled_demonstration_without_email(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """In this process (``main``, its console at the file descriptors): the labels and the files are the run's."""
    (tmp_path / "bluum-readiness.toml").write_text(COMPANY, encoding="utf-8")  # an email would be written
    for name in [k for k in os.environ if k.startswith(("BLUUM_", "PYTEST_XDIST", "PYTEST_ADDOPTS"))]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("CI", "false")
    monkeypatch.chdir(tmp_path)
    code = main(["run", "--only", "smoke-test"])
    captured = capfd.readouterr()
    result = Result(code, captured.out, captured.err)
    assert result.returncode == 0, result.stdout + result.stderr
    words = "the bundled reference integration (a demonstration, not your code)"
    assert result.stdout.startswith(f"bluum-readiness: checking {words}")
    out = tmp_path / "readiness-out"
    document = json.loads((out / "readiness.json").read_text())
    assert document["integration_identity"]["demonstration"] is True and words in document["verdict_line"]
    assert words in (out / "readiness.md").read_text() and words in (out / "readiness.html").read_text()
    assert not (out / "email.eml").exists() and not (out / "email.txt").exists()
    assert "email.eml/email.txt not written: this run checked the bundled reference integration" in result.stdout


def test_an_integration_that_exits_at_import_fails_says_why_and_leaves_no_earlier_file(tmp_path: Path) -> None:
    (tmp_path / "exiting_adapter.py").write_text(EXITING_ADAPTER, encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    for name in ("readiness.json", "readiness.html", "readiness.pdf", "email.eml", "email.txt", "pytest.log"):
        (out / name).write_text("from an earlier READY run", encoding="utf-8")
    (out / "allure-results").mkdir()
    (out / "allure-results" / "old-result.json").write_text("{}", encoding="utf-8")
    result = _cli(tmp_path, "run", "--integration", "exiting_adapter:create", "--out", "out")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "the run's process exited (code 0) before the run finished" in result.stderr
    assert f"{out.resolve() / 'readiness.json'} was not written" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == [], "no earlier file beside (no) record, no lock left"


def test_a_worker_that_dies_leaves_a_complete_record_with_its_check_broken(tmp_path: Path) -> None:
    (tmp_path / "dying_worker.py").write_text(DYING_WORKER, encoding="utf-8")
    result = _cli(tmp_path, "run", "--integration", "dying_worker:create", "--only", "credentials", "-n", "1")
    assert result.returncode == 1, result.stdout + result.stderr
    document = json.loads((tmp_path / "readiness-out" / "readiness.json").read_text())
    check = next(c for i in document["items"] for c in i["checks"] if c["id"] == "credentials.secret-source")
    assert check["status"] == "broken" and "the process running this check died" in check["reason"]
    assert "crashed while running" in check["reason"]
    assert document["verdict"] == "not_ready"


@pytest.mark.parametrize("command", [["run", "--out", ""], ["run", "--out", "  "], ["report", "x.json", "--out", ""]])
def test_an_empty_out_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys, command) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CI", raising=False)
    if command[0] == "report":
        from tests.report.conftest import write_run

        command[1] = str(write_run(tmp_path / "rec", failing=False))
    assert main(command) == 2
    err = capsys.readouterr().err
    assert err.startswith("bluum-readiness: error: --out ") and "empty" in err and len(err.splitlines()) == 1


def test_a_second_run_into_an_out_in_use_is_refused_and_a_stale_lock_is_recovered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CI", raising=False)
    out = tmp_path / "out"
    out.mkdir()
    (out / "readiness.json").write_text("the other run's record", encoding="utf-8")
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        lock = {"pid": other.pid, "host": socket.gethostname(), "started": "2026-12-07T06:00:00+00:00"}
        (out / LOCK_NAME).write_text(json.dumps(lock), encoding="utf-8")
        assert main(["run", "--only", "smoke-test", "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert f"is in use by another bluum-readiness run (pid {other.pid}" in err
        assert (out / "readiness.json").read_text() == "the other run's record", "never overwritten"
    finally:
        other.kill()
        other.wait()
    assert main(["run", "--only", "smoke-test", "--out", str(out)]) == 0, "the dead run's lock is stale"
    assert json.loads((out / "readiness.json").read_text())["verdict"] == "passed"
    assert not (out / LOCK_NAME).exists(), "released when the run ends"


def test_the_supervisor_judges_how_the_run_ended(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``_judge`` (the parent's verdict on the child): a verdict without a complete record is exit 1; a kill says
    so; a usage error passes through; a run that ended with its record keeps its code."""
    from bluum_readiness.cli._supervise import _judge
    from tests.report.conftest import write_run

    out = tmp_path / "out"
    out.mkdir()
    ended_0 = 0 << 8
    assert _judge(4242, ended_0, {"out": str(out), "end": "0"}) == 1
    assert "the run ended without a complete record" in capsys.readouterr().err
    (out / "readiness.json").write_text('{"verdict": "ready", "items": [', encoding="utf-8")  # cut short
    assert _judge(4242, ended_0, {"out": str(out), "end": "0"}) == 1
    assert "is incomplete" in capsys.readouterr().err
    write_run(out, failing=False)
    assert _judge(4242, ended_0, {"out": str(out), "end": "0"}) == 0
    assert _judge(4242, 2 << 8, {"out": str(out), "end": "2"}) == 2, "a usage error after the lock passes through"
    killed = 9  # waitpid's status of a process killed by SIGKILL
    (out / "readiness.json").unlink()
    assert _judge(4242, killed, {"out": str(out)}) == 1
    err = capsys.readouterr().err
    assert "the run's process was killed by SIGKILL" in err and "was not written" in err
    assert _judge(4242, 15, {"out": str(out)}) == 130, "killed by SIGTERM: interrupted"


def test_the_supervised_run_leaves_its_heap_out_of_the_collections_at_exit(monkeypatch: pytest.MonkeyPatch) -> None:
    """The run's process ends after ``_child``: the interpreter's collections over its heap while shutting down took
    ~0.5 s of every run after its last line (docs/performance.md), so ``_child`` freezes the heap, whichever way
    ``main`` ended; it still tells the supervisor how it ended."""
    import gc
    import os

    from bluum_readiness.cli import _supervise

    monkeypatch.setattr(_supervise.os, "setpgid", lambda *args: None)  # the test's process keeps its group
    monkeypatch.setattr(_supervise, "_channel", None)
    read, write = os.pipe()

    def exits(argv: object) -> int:
        raise SystemExit(2)

    try:
        gc.unfreeze()
        assert _supervise._child(lambda argv: 3, [], write) == 3
        assert gc.get_freeze_count() > 0
        gc.unfreeze()
        with pytest.raises(SystemExit):
            _supervise._child(exits, [], write)
        assert gc.get_freeze_count() > 0
    finally:
        gc.freeze()  # as tests/conftest.py left it
        os.close(write)
        with os.fdopen(read) as told:
            assert told.read() == "end\t3\nend\t2\n"


def test_an_xdist_worker_of_a_run_leaves_its_heap_out_of_the_collections_at_exit() -> None:
    """A worker's interpreter exits once its session is over: its collections over pytest's, the checks' and the
    twin's heap took ~0.3-0.8 s of CPU per worker of every ``-n`` run (docs/performance.md). Only a readiness run's
    worker freezes it; a team's own pytest run (the plugin is loaded in every one) is left alone."""
    import gc
    from types import SimpleNamespace

    from bluum_readiness.suite import plugin
    from bluum_readiness.suite.plugin import RUN

    def config(**extra: object) -> pytest.Config:
        stash = pytest.Stash()
        if extra.pop("run", False):
            stash[RUN] = object()  # type: ignore[assignment]
        return SimpleNamespace(stash=stash, **extra)  # type: ignore[return-value]

    try:
        gc.unfreeze()
        plugin.pytest_unconfigure(config(workerinput={}))  # a worker of an unrelated pytest run
        plugin.pytest_unconfigure(config(run=True))  # the controller of a readiness run
        assert gc.get_freeze_count() == 0
        plugin.pytest_unconfigure(config(workerinput={}, run=True))
        assert gc.get_freeze_count() > 0
    finally:
        gc.freeze()  # as tests/conftest.py left it
