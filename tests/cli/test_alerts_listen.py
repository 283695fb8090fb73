"""``[alerts]`` as a team runs it: a listen address already taken stops the run before anything starts, in one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bluum_readiness.alerts.listener import AlertListener

ROOT = Path(__file__).resolve().parents[2]


def test_a_taken_listen_port_is_a_usage_error_naming_the_setting(tmp_path: Path) -> None:
    with AlertListener({}) as taken:
        port = taken.url.rsplit(":", 1)[1]
        (tmp_path / "bluum-readiness.toml").write_text(f'[alerts]\nlisten = "127.0.0.1:{port}"\n', encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("BLUUM_", "PYTEST_", "CI"))}
        env.update(PYTHONPATH=str(ROOT))
        done = subprocess.run(
            [sys.executable, "-m", "bluum_readiness.cli.main", "run", "--only", "observability",
             "--out", str(tmp_path / "out")],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    said = done.stdout + done.stderr
    assert f"[alerts] listen = '127.0.0.1:{port}': the suite cannot listen there" in said, said
    assert "Traceback" not in said
