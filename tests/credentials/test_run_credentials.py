"""``bluum-readiness run --only credentials`` as a new user runs it: from an empty folder, from a project with a
sandbox key pasted into its code, and from a repository whose history holds a pair removed since (exit 1; the
finding names file, line and rule, and the commit; the key appears nowhere)."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

from tests.credentials.gitrepo import Repo


def run(cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("BLUUM_", "PYTEST_XDIST", "PYTEST_ADDOPTS"))}
    clean.pop("CI", None)  # the demonstration (no integration configured) runs outside CI only
    clean |= env
    return subprocess.run(
        [sys.executable, "-m", "bluum_readiness.cli.main", "run", "--only", "credentials"],
        cwd=cwd, capture_output=True, text=True, env=clean, timeout=240,
    )  # fmt: skip


def test_from_an_empty_folder_the_integrations_own_code_is_scanned(tmp_path: Path) -> None:
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


def test_a_planted_sandbox_key_fails_the_run_with_file_line_and_rule(tmp_path: Path) -> None:
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


def test_a_pair_removed_but_still_in_git_history_fails_the_run_naming_the_commit(tmp_path: Path) -> None:
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
