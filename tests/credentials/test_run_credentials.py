"""``bluum-readiness run --only credentials`` as a new user runs it: from an empty folder, from a project with a
sandbox key pasted into its code, and from a repository whose history holds a pair removed since (exit 1; the
finding names file, line and rule, and the commit; the key appears nowhere).

The command runs through ``main`` in the test's process, in the folder and with the environment a user's shell
gives it, its console captured at the file descriptors: what is asserted is what the run scans and reports; the
console command's own process (its supervisor, signals) is run for real in tests/cli (test_run_command.py,
test_interrupt.py, test_no_lost_record.py) — a process here would only add a Python start and the CLI's imports."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bluum_readiness.cli.main import main
from tests.credentials.gitrepo import Repo
from tests.fixtures.cli import Result


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """``run(cwd, **env)``: ``bluum-readiness run --only credentials`` in ``cwd``, outside CI, with no BLUUM_*
    variable but ``env``'s."""

    def run_in(cwd: Path, **env: str) -> Result:
        for name in [k for k in os.environ if k.startswith(("BLUUM_", "PYTEST_XDIST", "PYTEST_ADDOPTS"))]:
            monkeypatch.delenv(name)
        monkeypatch.delenv("CI", raising=False)  # the demonstration (no integration configured) runs outside CI only
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        monkeypatch.chdir(cwd)
        capfd.readouterr()
        code = main(["run", "--only", "credentials"])
        captured = capfd.readouterr()
        return Result(code, captured.out, captured.err)

    return run_in


def test_from_an_empty_folder_the_integrations_own_code_is_scanned(tmp_path: Path, run: Callable[..., Result]) -> None:
    # a folder outside git: the files are judged, the history is not verifiable (there is none to read)
    result = run(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads((tmp_path / "readiness-out" / "readiness.json").read_text())
    checks = {c["id"]: c for i in report["items"] if i["id"] == "credentials" for c in i["checks"]}
    assert "no git history here" in checks["credentials.no-secrets-in-code"]["message"]
    assert {check_id: c["status"] for check_id, c in checks.items()} == {
        "credentials.no-secrets-in-code": "not_verifiable",
        "credentials.secret-source": "passed",
        "credentials.key-age": "passed",
    }
    scanned = checks["credentials.no-secrets-in-code"]["evidence"]["secret_scan"]
    assert scanned["paths"][0] == "." and scanned["paths"][1].endswith("bluum_readiness/reference")
    assert scanned["files_scanned"] >= 5  # the reference integration's modules: the code under test


def test_a_planted_sandbox_key_fails_the_run_with_file_line_and_rule(
    tmp_path: Path, run: Callable[..., Result]
) -> None:
    key = f"test_bluum_{secrets.token_hex(32)}"
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "settings.py").write_text(f'TIMEOUT_S = 5\nBLUUM_KEY = "{key}"\n')
    result = run(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "app/settings.py:2: Bluum sandbox API key" in result.stdout
    assert "Verdict: NOT READY" in result.stdout
    out = tmp_path / "readiness-out"
    everything = (
        result.stdout + result.stderr + "".join(p.read_text(errors="replace") for p in out.rglob("*") if p.is_file())
    )
    assert key not in everything and key[len("test_bluum_") :] not in everything


def test_a_pair_removed_but_still_in_git_history_fails_the_run_naming_the_commit(
    tmp_path: Path, run: Callable[..., Result]
) -> None:
    key, secret = f"test_bluum_{secrets.token_hex(32)}", secrets.token_hex(32)
    repo = Repo(tmp_path / "project")
    repo.commit("init", {"src/config.ts": 'export const BASE_URL = "https://sandbox.api.bluumfinance.com/v1";\n'})
    added = repo.commit("client with a fallback pair", {
        "src/client.ts": f"const BLUUM_API_KEY = process.env.BLUUM_API_KEY ||\n  '{key}';\n"
        f"const BLUUM_API_SECRET = process.env.BLUUM_API_SECRET ||\n  '{secret}';\n"
        "const AUTH_KEY = 'bluum_auth_key';\n",
    })  # fmt: skip
    repo.commit("read the pair from the environment", {
        "src/client.ts": "const BLUUM_API_KEY = process.env.BLUUM_API_KEY!;\n"
        "const BLUUM_API_SECRET = process.env.BLUUM_API_SECRET!;\nconst AUTH_KEY = 'bluum_auth_key';\n",
    })  # fmt: skip
    result = run(repo.root, BLUUM_READINESS_CACHE_DIR=str(tmp_path / "cache"))
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"src/client.ts:2 in commit {added[:7]}: Bluum sandbox API key" in result.stdout
    assert f"src/client.ts:4 in commit {added[:7]}: Bluum API secret" in result.stdout
    assert "rotate the pair now" in result.stdout and "AUTH_KEY" not in result.stdout
    out = repo.root / "readiness-out"
    assert {p.name for p in out.iterdir()} >= {"readiness.json", "readiness.html", "readiness.md", "junit.xml"}
    assert any((out / "allure-results").iterdir())
    everything = (
        result.stdout
        + result.stderr
        + "".join(
            p.read_text(errors="replace")
            for folder in (out, tmp_path / "cache")
            for p in folder.rglob("*")
            if p.is_file()
        )
    )
    for value in (key, key[len("test_bluum_") :], secret):
        assert value not in everything
    report = json.loads((out / "readiness.json").read_text())
    check = next(c for i in report["items"] for c in i["checks"] if c["id"] == "credentials.no-secrets-in-code")
    assert check["status"] == "failed"
    assert f"in commit {added[:7]}" in (out / "readiness.md").read_text()


def test_the_teams_own_pair_is_aged_only_by_its_declaration_shown_as_declared(
    tmp_path: Path, run: Callable[..., Result]
) -> None:
    # the twin adopts the pair from the environment at the run's start: it never saw when Bluum issued it
    pair = {"BLUUM_API_KEY": f"test_bluum_{secrets.token_hex(32)}", "BLUUM_API_SECRET": secrets.token_hex(32)}
    result = run(tmp_path, **pair)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads((tmp_path / "readiness-out" / "readiness.json").read_text())
    check = next(c for i in report["items"] for c in i["checks"] if c["id"] == "credentials.key-age")
    assert check["status"] == "not_verifiable", check
    assert "adopted your key pair" in check["reason"] and "[credentials] key_created" in check["reason"]

    # declared from the dashboard: judged on the declaration, and every output says it was declared
    created = (datetime.now(UTC).date() - timedelta(days=12)).isoformat()
    (tmp_path / "bluum-readiness.toml").write_text(f"[credentials]\nkey_created = {created}\n")
    result = run(tmp_path, **pair)
    assert result.returncode == 0, result.stdout + result.stderr
    out = tmp_path / "readiness-out"
    report = json.loads((out / "readiness.json").read_text())
    check = next(c for i in report["items"] for c in i["checks"] if c["id"] == "credentials.key-age")
    assert check["status"] == "passed", check
    assert check["provenance"] == {"source": "declared", "target": f"[credentials] key_created = {created}"}
    assert check["evidence"]["key_age"]["source"] == "declared: [credentials] key_created"
    markdown = (out / "readiness.md").read_text().replace("\\", "")  # Markdown escapes [ ] _
    assert f"declared by the team in [credentials] key_created = {created}, not observed" in markdown

    # a pair declared too old fails, naming the declaration
    (tmp_path / "bluum-readiness.toml").write_text("[credentials]\nkey_created = 2020-01-31\n")
    result = run(tmp_path, **pair)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "declared: [credentials] key_created" in result.stdout
    for value in pair.values():
        assert value not in result.stdout + result.stderr


def test_reports_rendered_or_combined_elsewhere_are_evidence_not_code(
    tmp_path: Path, run: Callable[..., Result]
) -> None:
    # `report --out` and `report --combine --out` write report folders without a pytest.log: their exchange records
    # (SHA-256 digests beside key ids) are the tool's own scrubbed output, never a finding of the next run's scan
    def scanned() -> dict[str, Any]:
        report = json.loads((tmp_path / "readiness-out" / "readiness.json").read_text())
        return next(c for i in report["items"] for c in i["checks"] if c["id"] == "credentials.no-secrets-in-code")

    first = run(tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    files_before = scanned()["evidence"]["secret_scan"]["files_scanned"]
    assert main(["report", "readiness-out/readiness.json", "--out", "rendered"]) == 0
    assert (tmp_path / "rendered" / "allure-results").is_dir() and not (
        tmp_path / "rendered" / "readiness.json"
    ).exists()
    (tmp_path / "team-test-results").mkdir()  # a team's own test output is scanned as before
    (tmp_path / "team-test-results" / "junit.xml").write_text('<testsuite name="app"/>\n')
    again = run(tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    check = scanned()
    assert check["status"] == "not_verifiable" and "hold no secret" in check["message"], check["message"]
    assert check["evidence"]["secret_scan"]["files_scanned"] == files_before + 1  # junit.xml; nothing of rendered/
