"""``bluum-readiness run`` as a user (or CI) runs it, in a subprocess from the repository root (a run refused before
any check, and a few others, in the test's process)."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bluum_readiness.cli.main import main
from tests.fixtures.cli import Result, cli

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("BLUUM_", "PYTEST_XDIST", "PYTEST_ADDOPTS"))}
    clean.pop("CI", None)
    return subprocess.run([sys.executable, "-m", "bluum_readiness.cli.main", "run", *args], cwd=ROOT,
                          capture_output=True, text=True, env={**clean, **(env or {})}, timeout=240)  # fmt: skip


def _refused(monkeypatch: pytest.MonkeyPatch, *args: str, env: dict[str, str] | None = None) -> Result:
    """A run refused before any check (usage error, target unreachable, credentials rejected): in this process, with
    the environment ``_run`` gives its subprocess."""
    for name in [k for k in os.environ if k.startswith(("BLUUM_", "PYTEST_XDIST", "PYTEST_ADDOPTS"))]:
        monkeypatch.delenv(name)
    for name, value in (env or {}).items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(ROOT)
    return cli("run", *args)


def test_a_passing_subset_exits_0_but_is_not_called_ready(tmp_path: Path) -> None:
    """READY means the five readiness items ran and passed (what the email confirms); one cut-over item passing is
    PASSED, and shown as a rehearsal."""
    result = _run("--only", "smoke-test", "--out", str(tmp_path))  # the cheapest item: one check
    assert result.returncode == 0, result.stdout + result.stderr
    assert "smoke-test.read-only-200" in result.stdout
    line = "PASSED (readiness not run; cut-over rehearsal: 1 of 3 items passed; 2 not run)"
    demo = " - the bundled reference integration (a demonstration, not your code)"
    assert f"Verdict: {line}{demo}" in result.stdout
    assert "Verdict: READY" not in result.stdout
    assert f"readiness.json: {tmp_path / 'readiness.json'}" in result.stdout
    report = json.loads((tmp_path / "readiness.json").read_text())
    assert report["schema_version"] == "3" and report["verdict"] == "passed"
    assert report["verdict_line"] == line + demo
    assert report["coverage"]["passed"] == ["smoke-test"] and len(report["coverage"]["not_run"]) == 7
    items = {i["id"]: i for i in report["items"]}
    assert items["smoke-test"]["status"] == "passed" and items["idempotency"]["status"] == "skipped"
    assert items["smoke-test"]["checks"] and all(c["status"] == "passed" for c in items["smoke-test"]["checks"])
    assert report["integration"] == "bluum_readiness.reference:create_fast"
    assert report["target"] == {
        "mode": "embedded",
        "host": "embedded twin",
        "url": "embedded",
        "environment": "embedded_twin",
    }
    assert report["items"][5]["provenance"] == [{"source": "twin", "target": "embedded"}]
    # the log is the run's: no warning about bluum-readiness itself (pytest offers to rewrite its assertions)
    assert "warnings summary" not in (tmp_path / "pytest.log").read_text()


def test_pytest_addopts_from_the_environment_do_not_reach_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """A CI runner's ``PYTEST_ADDOPTS`` (for its own tests) is not applied to the readiness run, as a pytest config
    in the project is not: ``--collect-only`` there ended the run with "the suite could not run" (exit 2), and
    ``-k`` chose checks behind ``--only``'s back. One line says so; ``--only`` and ``--phase`` choose items."""
    for name in [k for k in os.environ if k.startswith(("BLUUM_", "PYTEST_XDIST"))]:
        monkeypatch.delenv(name)
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("PYTEST_ADDOPTS", "--collect-only -x")
    monkeypatch.chdir(tmp_path)
    code = main(["run", "--only", "smoke-test", "--out", str(tmp_path / "out")])
    captured = capfd.readouterr()
    assert code == 0, captured.out + captured.err
    report = json.loads((tmp_path / "out" / "readiness.json").read_text())
    assert {i["id"]: i["status"] for i in report["items"]}["smoke-test"] == "passed"
    assert "PYTEST_ADDOPTS ('--collect-only -x') is not applied to the readiness run" in captured.err
    assert os.environ["PYTEST_ADDOPTS"] == "--collect-only -x", "the process's environment is restored"


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
def test_a_console_that_cannot_show_a_character_shows_a_question_mark_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, encoding: str
) -> None:
    """A Windows code page, a Latin-1 locale or ``PYTHONIOENCODING=ascii``: the console lines' em dash (and the
    control pictures of an integration's colour codes) cannot be encoded. Before: pytest's INTERNALERROR with a
    UnicodeEncodeError, exit 2, before the first check; now each such character is shown as ``?``."""
    streams = {name: io.TextIOWrapper(io.BytesIO(), encoding=encoding) for name in ("stdout", "stderr")}
    for name, stream in streams.items():
        monkeypatch.setattr(sys, name, stream)
    for name in [k for k in os.environ if k.startswith(("BLUUM_", "PYTEST_XDIST", "PYTEST_ADDOPTS"))]:
        monkeypatch.delenv(name)
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.chdir(tmp_path)
    code = main(["run", "--only", "smoke-test", "--out", "out"])
    shown = {}
    for name, stream in streams.items():
        stream.flush()
        shown[name] = stream.buffer.getvalue().decode(encoding)  # type: ignore[attr-defined]
    assert code == 0, shown
    assert "smoke-test.read-only-200 ? A read-only request" in shown["stdout"], shown
    assert "Verdict: PASSED" in shown["stdout"] and "Traceback" not in shown["stdout"] + shown["stderr"]


def test_a_proxy_the_environment_names_never_carries_the_runs_loopback_traffic(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A CI runner behind a corporate proxy: HTTP_PROXY and friends set, NO_PROXY without loopback. Before: every
    request of the suite and the reference integration to the embedded twin went to the proxy (here a closed port),
    and every check was broken ("the target did not answer"). Now loopback is added to NO_PROXY: the run is as
    without the proxy, and what it starts inherits that."""
    for name in [k for k in os.environ if k.startswith(("BLUUM_", "PYTEST_XDIST", "PYTEST_ADDOPTS"))]:
        monkeypatch.delenv(name)
    monkeypatch.delenv("CI", raising=False)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("NO_PROXY", "corp.example")
    monkeypatch.setenv("no_proxy", "")
    monkeypatch.chdir(tmp_path)
    code = main(["run", "--only", "smoke-test", "--only", "credential-rotation", "--out", "out"])
    captured = capsys.readouterr()
    assert code == 0, captured.out + captured.err
    report = json.loads((tmp_path / "out" / "readiness.json").read_text())
    assert {i["id"]: i["status"] for i in report["items"] if i["checks"]} == {
        "smoke-test": "passed",
        "credential-rotation": "passed",
    }
    assert os.environ["NO_PROXY"] == os.environ["no_proxy"] == "corp.example,127.0.0.1,localhost,::1"


def test_loopback_is_added_to_no_proxy_only_where_a_proxy_is_named() -> None:
    from bluum_readiness._loopback import keep_loopback_direct

    quiet = {"PATH": "/bin"}
    keep_loopback_direct(quiet)
    assert quiet == {"PATH": "/bin"}
    behind = {"https_proxy": "http://proxy.corp:3128", "no_proxy": "localhost,.corp"}
    keep_loopback_direct(behind)
    keep_loopback_direct(behind)  # once is enough
    assert behind["NO_PROXY"] == behind["no_proxy"] == "localhost,.corp,127.0.0.1,::1"


def test_a_known_bad_integration_fails_and_names_the_item_and_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """In this process (``main``, its console captured at the file descriptors): the verdict, the console and the
    record are the run's; the process adds nothing asserted here (the subset above runs as one)."""
    secret = "seeded-secret-value-0123456789"
    env = {"BLUUM_API_KEY": "seeded-key", "BLUUM_API_SECRET": secret}
    for name in [k for k in os.environ if k.startswith(("BLUUM_", "PYTEST_XDIST", "PYTEST_ADDOPTS"))]:
        monkeypatch.delenv(name)
    monkeypatch.delenv("CI", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(ROOT)
    code = main(["run", "--integration", "tests.integrations.variants:no_key", "--only", "idempotency",
                 "--out", str(tmp_path)])  # fmt: skip
    captured = capfd.readouterr()
    result = Result(code, captured.out, captured.err)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "idempotency.key-on-every-transfer" in result.stdout and "Idempotency-Key" in result.stdout
    assert "Verdict: NOT READY" in result.stdout
    report = json.loads((tmp_path / "readiness.json").read_text())
    item = next(i for i in report["items"] if i["id"] == "idempotency")
    failed = [c for c in item["checks"] if c["status"] == "failed" and c["severity"] == "required"]
    assert item["status"] == "failed" and [c["id"] for c in failed] == ["idempotency.key-on-every-transfer"]
    assert failed[0]["evidence"]["exchanges"], "the recorded exchanges are the evidence"
    everything = result.stdout + result.stderr + (tmp_path / "readiness.json").read_text()
    log = (tmp_path / "pytest.log").read_text()
    everything += log
    assert secret not in everything
    # pytest.log: the finding at the check's test function, none of the suite's own frames (hidden_for_findings)
    assert "E       bluum_readiness.failures.ConformanceFailure: [idempotency] idempotency.key-on-every-transfer" in log
    assert not any(f"bluum_readiness/{name}" in log for name in ("suite/session.py", "checks/registry.py")), log


def test_an_unknown_item_is_a_usage_error_naming_the_closest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = _refused(monkeypatch, "--only", "idempotncy", "--out", str(tmp_path))
    assert result.returncode == 2
    assert "Did you mean 'idempotency'?" in result.stderr
    assert not (tmp_path / "readiness.json").exists()


def test_an_unreachable_target_exits_3_before_running_anything(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = _refused(
        monkeypatch, "--target", "http://127.0.0.1:9/v1", "--out", str(tmp_path), env={"BLUUM_API_KEY": "k"}
    )
    assert result.returncode == 3, result.stderr
    assert "unreachable" in result.stderr and "127.0.0.1:9" in result.stderr
    assert not (tmp_path / "readiness.json").exists()


def test_rejected_credentials_exit_3(twin_server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = {"BLUUM_API_KEY": twin_server.pair.key, "BLUUM_API_SECRET": "not-the-secret"}
    result = _refused(monkeypatch, "--target", twin_server.base_url, "--out", str(tmp_path), env=env)
    assert result.returncode == 3
    assert "rejected the credentials" in result.stderr and "not-the-secret" not in result.stderr


def test_bad_config_exits_2_naming_the_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    (tmp_path / "bluum-readiness.toml").write_text("[thresholds]\nmax_atempts = 3\n")
    monkeypatch.chdir(tmp_path)
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert "max_atempts" in err and "Did you mean 'max_attempts'?" in err


def test_a_bad_integration_spec_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = _refused(monkeypatch, "--integration", "no_such_module:create", "--out", str(tmp_path))
    assert result.returncode == 2
    assert "cannot import integration module 'no_such_module'" in result.stderr


def test_a_rendering_failure_keeps_the_verdict_and_says_how_to_re_render(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import bluum_readiness.cli.run as run_module

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a renderer bug")

    monkeypatch.setattr(run_module, "render_all", broken)
    monkeypatch.chdir(tmp_path)
    code = main(["run", "--only", "smoke-test", "--out", str(tmp_path / "out")])
    captured = capsys.readouterr()
    assert code == 0, captured.out + captured.err
    assert "rendering the report failed (RuntimeError: a renderer bug)" in captured.err
    assert "bluum-readiness report" in captured.err
    assert "Verdict: PASSED (readiness not run; cut-over rehearsal: 1 of 3" in captured.out
    assert (tmp_path / "out" / "readiness.json").is_file()


def _one_line_usage_error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(["run", *argv]) == 2
    captured = capsys.readouterr()
    assert "bluum-readiness: checking" not in captured.out, "nothing may run before --out is known writable"
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in captured.err, captured.err
    return lines[0]


def test_a_file_in_the_way_of_out_is_a_one_line_usage_error_before_anything_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "report").write_text("a file, not a folder")
    line = _one_line_usage_error(capsys, "--out", "report")
    assert line.startswith("bluum-readiness: error: --out report is a file, not a folder") and "--out" in line
    line = _one_line_usage_error(capsys, "--out", "report/inside")
    assert "cannot write into --out report/inside" in line and "Not a directory" in line
    assert (tmp_path / "report").read_text() == "a file, not a folder"


@pytest.fixture
def read_only_folder(tmp_path: Path) -> Iterator[Path]:
    """A folder nobody may write into — chmod for a user; for root (who ignores modes), the immutable flag."""
    folder = tmp_path / "locked"
    folder.mkdir()
    as_root = os.geteuid() == 0
    if as_root:
        if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(folder)]).returncode != 0:
            pytest.skip("running as root without chattr +i on this file system: no read-only folder to test with")
    else:
        folder.chmod(0o555)
    try:
        yield folder
    finally:
        if as_root:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
        folder.chmod(0o755)


def test_a_read_only_out_is_a_one_line_usage_error_before_anything_runs(
    read_only_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = _one_line_usage_error(capsys, "--out", str(read_only_folder))
    assert f"cannot write into --out {read_only_folder}" in line and "pass --out a folder you can write to" in line
    line = _one_line_usage_error(capsys, "--out", str(read_only_folder / "new"))
    assert f"cannot write into --out {read_only_folder / 'new'}" in line
    assert list(read_only_folder.iterdir()) == []


def test_the_out_check_leaves_no_folder_behind_when_the_run_stops_at_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["run", "--integration", "no_such_module:create", "--out", "deep/new/out"]) == 2
    assert "cannot import integration module 'no_such_module'" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["readiness.json", "readiness.pdf", "email.eml"])
def test_a_folder_in_the_way_of_an_output_file_is_a_one_line_usage_error_before_anything_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    """A writable --out holding a folder where the run writes one of its files (readiness.json: a traceback after
    the whole run, before this check) is refused like a file in the way of --out itself."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "out" / name).mkdir(parents=True)
    line = _one_line_usage_error(capsys, "--out", "out", "--only", "smoke-test")
    assert f"--out out holds a folder named {name}" in line and "move it away" in line, line
    assert (tmp_path / "out" / name).is_dir() and [p.name for p in (tmp_path / "out").iterdir()] == [name]


def test_a_file_in_the_way_of_allure_results_is_a_one_line_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "allure-results").write_text("a file")
    line = _one_line_usage_error(capsys, "--out", "out", "--only", "smoke-test")
    assert "--out out holds a file named allure-results" in line, line


def test_n_beyond_the_cpus_is_capped_and_said(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """-n 99999 once started 41 workers (2.3 GB) and ran no check: more workers than CPUs or checks only cost."""
    import bluum_readiness.cli.run as run_module
    from bluum_readiness.config import RunConfig

    monkeypatch.setattr(run_module, "usable_cpus", lambda: 2)
    assert run_module.capped_workers(RunConfig(workers=99999)).workers == 2
    assert "-n 99999 is more processes than useful (this machine gives the run 2 CPUs); running 2" in (
        capsys.readouterr().err
    )
    assert run_module.capped_workers(RunConfig(workers=2)).workers == 2
    assert run_module.capped_workers(RunConfig(workers="auto")).workers == "auto"
    assert capsys.readouterr().err == ""


def test_with_alerts_configured_the_alert_checks_get_the_run_to_themselves(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The team's metrics are the whole integration's: with workers, another worker's 5xx and 429 would reach its
    monitoring during an alert check's quiet watch, so a run with [alerts] and an alert check runs serially, and says
    so; without [alerts], or without the alert checks, -n stays."""
    import bluum_readiness.cli.run as run_module
    from bluum_readiness.config import AlertsConfig, RunConfig

    alerts = AlertsConfig(listen="127.0.0.1:9094", kinds=(("elevated_5xx", (("alertname", "AcmeHigh5xx"),)),))
    assert run_module.serial_for_alerts(RunConfig(workers=2, alerts=alerts)).workers == 0
    err = capsys.readouterr().err
    assert "-n 2 ignored: [alerts] is configured" in err and "docs/alerts.md" in err, err
    assert run_module.serial_for_alerts(RunConfig(workers=2, alerts=alerts, only=("observability",))).workers == 0
    capsys.readouterr()
    assert run_module.serial_for_alerts(RunConfig(workers=2, alerts=alerts, only=("webhooks",))).workers == 2
    assert run_module.serial_for_alerts(RunConfig(workers=2)).workers == 2
    assert run_module.serial_for_alerts(RunConfig(workers=0, alerts=alerts)).workers == 0
    assert capsys.readouterr().err == ""


def test_n_beyond_the_checks_runs_without_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import bluum_readiness.cli.run as run_module

    monkeypatch.setattr(run_module, "usable_cpus", lambda: 64)
    monkeypatch.chdir(tmp_path)
    code = main(["run", "-n", "99999", "--only", "smoke-test", "--out", str(tmp_path / "out")])
    captured = capsys.readouterr()
    assert code == 0, captured.out[-2000:] + captured.err[-2000:]
    assert "-n 99999 is more processes than useful (the run has 1 check); running 1 (no worker processes)" in (
        captured.err
    )
    assert json.loads((tmp_path / "out" / "readiness.json").read_text())["workers"] == 0


@pytest.mark.parametrize("name", ["x" * 300, "/".join(["y" * 200] * 30)], ids=["name", "path"])
def test_an_out_name_too_long_is_a_one_line_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    monkeypatch.chdir(tmp_path)
    line = _one_line_usage_error(capsys, "--out", name)
    assert "File name too long" in line and "pass --out a folder you can write to" in line
    assert len(line) < 400  # the name is shown shortened
