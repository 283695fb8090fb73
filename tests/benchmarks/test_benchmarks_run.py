"""Each benchmark script runs end to end in its tiny ``--quick`` mode, so the scripts do not rot.

Only that they run and print their figures is checked, never the figures: speed claims live in
benchmarks/ and docs/performance.md, not in timed unit tests.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
EXPECTED = {
    "full_run.py": "requests the run made",
    "proxy_overhead.py": "added by the proxy",
    "twin_throughput.py": "req/twin-CPU-s",
    "rate_limit_efficiency.py": "429s the run caused itself",
    "secret_scan.py": "the time to read them",
}


def test_every_benchmark_script_is_covered() -> None:
    scripts = {p.name for p in BENCHMARKS.glob("*.py") if not p.name.startswith("_")}
    assert scripts == set(EXPECTED)


@pytest.mark.parametrize("script", sorted(EXPECTED))
def test_benchmark_runs_in_quick_mode(script: str) -> None:
    proc = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), "--quick"], capture_output=True, text=True, timeout=180
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "machine:" in proc.stdout and EXPECTED[script] in proc.stdout, proc.stdout[-2000:]
