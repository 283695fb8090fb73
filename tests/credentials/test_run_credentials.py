"""``bluum-readiness run --only credentials`` as a new user runs it: from an empty folder, and from a project with a
sandbox key pasted into its code (exit 1; the finding names file, line and rule; the key appears nowhere)."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path


def run(cwd: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("BLUUM_", "PYTEST_XDIST", "PYTEST_ADDOPTS"))}
    return subprocess.run(
        [sys.executable, "-m", "bluum_readiness.cli.main", "run", "--only", "credentials"],
        cwd=cwd, capture_output=True, text=True, env=clean, timeout=240,
    )  # fmt: skip


def test_from_an_empty_folder_nothing_to_scan_is_not_verifiable_not_passed(tmp_path: Path) -> None:
    result = run(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "the secret scan found no files to scan" in result.stdout
    report = json.loads((tmp_path / "readiness-out" / "readiness.json").read_text())
    checks = {c["id"]: c["status"] for i in report["items"] if i["id"] == "credentials" for c in i["checks"]}
    assert checks == {
        "credentials.no-secrets-in-code": "not_verifiable",
        "credentials.secret-source": "passed",
        "credentials.key-age": "passed",
    }


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
