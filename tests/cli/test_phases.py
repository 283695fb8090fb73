"""The checklist's phases on the command line: ``run --phase``, production kept to the read-only smoke test, and
``smoke --out``'s short report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bluum_readiness.cli.main import build_parser, main
from bluum_readiness.cli.run import resolve


def _args(*argv: str):  # type: ignore[no-untyped-def]
    return build_parser().parse_args(["run", *argv])


def test_phase_selects_the_items_of_a_phase(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert resolve(_args("--phase", "readiness")).only == (
        "lifecycle",
        "idempotency",
        "error-handling",
        "webhooks",
        "credentials",
    )
    assert resolve(_args("--phase", "cutover")).only == ("smoke-test", "credential-rotation", "observability")
    assert resolve(_args("--phase", "cutover", "--only", "observability")).only == ("observability",)
    assert resolve(_args()).only == ()


def test_an_item_outside_the_phase_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    assert main(["run", "--phase", "cutover", "--only", "lifecycle"]) == 2
    assert "--only lifecycle is not in the cutover phase" in capsys.readouterr().err


def test_against_production_only_the_read_only_smoke_test_may_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    production = "https://api.bluumfinance.com/v1"
    for argv in ([], ["--phase", "readiness"], ["--phase", "cutover", "--only", "observability"]):
        assert main(["run", "--target", production, *argv]) == 2
        err = capsys.readouterr().err
        assert "is Bluum's production: only the read-only smoke test runs there" in err
    assert resolve(_args("--target", production, "--phase", "cutover")).only == ("smoke-test",)


def test_smoke_out_writes_its_short_report(twin_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    env = {k: v for k, v in os.environ.items() if not k.startswith("BLUUM_")}
    env.update(BLUUM_API_KEY=twin_server.pair.key, BLUUM_API_SECRET=twin_server.pair.secret)
    result = subprocess.run(
        [sys.executable, "-m", "bluum_readiness.cli.main", "smoke", "--target", twin_server.base_url, "--out", "out"],
        capture_output=True, text=True, env=env, timeout=30, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    record = json.loads((tmp_path / "out" / "smoke.json").read_text())
    assert record["status"] == "passed" and record["phase"] == "cut-over" and record["environment"] == "custom"
    assert record["answer"]["status"] == 200 and record["answer"]["request_id"].startswith("req_")
    markdown = (tmp_path / "out" / "smoke.md").read_text()
    assert markdown.startswith("# Bluum cut-over smoke test: **PASSED**") and "not production: a rehearsal" in markdown
    for text in (markdown, json.dumps(record), result.stdout):
        assert twin_server.pair.secret not in text and twin_server.pair.key not in text
    assert f"smoke.json: {tmp_path / 'out' / 'smoke.json'}" in result.stdout
