"""What every benchmark shares: the machine facts printed with each result, percentiles, and the load note.

The scripts run as ``python benchmarks/<name>.py`` (this folder is then first on ``sys.path``), so they
import this module as ``_common``. No third-party benchmarking library: ``time.perf_counter`` and
``statistics`` are enough, and the figures are printed with how they were measured.
"""

from __future__ import annotations

import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

from bluum_readiness.testing import investor_profile, plaid_bank

ROOT = Path(__file__).resolve().parent.parent


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo``, else ``lscpu``), with its family/model numbers where known:
    figures measured on different CPUs are not comparable, so every figure is printed beside this."""
    fields: dict[str, str] = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, sep, value = line.partition(":")
            if sep and key.strip() in ("model name", "cpu family", "model") and key.strip() not in fields:
                fields[key.strip()] = value.strip()
    except OSError:
        pass
    if "model name" not in fields and shutil.which("lscpu"):
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                fields["model name"] = line.split(":", 1)[1].strip()
    model = fields.get("model name") or platform.processor() or platform.machine()
    if "cpu family" in fields and "model" in fields:
        model += f" (family {fields['cpu family']} model {fields['model']})"
    return model


def machine() -> str:
    """One line: cores, CPU model, Python, and the load average now (the machine may be shared)."""
    return (
        f"machine: {os.cpu_count()} CPUs, CPU {cpu_model()}, Python {platform.python_version()} on "
        f"{platform.system()}, {load_note()}"
    )


def load_note() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min) {five:.2f} (5 min) on {os.cpu_count()} CPUs"


def pct(values: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (0–100), nearest-rank on the sorted values."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def cli_command() -> list[str]:
    """How to run ``bluum-readiness`` with this interpreter (the console script next to it, if installed)."""
    script = Path(sys.executable).parent / "bluum-readiness"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from bluum_readiness.cli.main import main; sys.exit(main())"]


def taskset(cpus: str) -> list[str]:
    """``taskset -c CPUS`` as a command prefix when taskset exists and the machine has more than one CPU."""
    if shutil.which("taskset") and (os.cpu_count() or 1) > 1:
        return ["taskset", "-c", cpus]
    return []


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_sandbox(
    cpus: str | None,
    *,
    rate_limit: float,
    key: str,
    secret: str,
    fast: bool = True,
    db: str = ":memory:",
    env: dict[str, str] | None = None,
) -> tuple[subprocess.Popen[str], str]:
    """``bluum-readiness sandbox`` in its own process (pinned to ``cpus`` when given); (process, base URL).
    ``env``: extra environment (e.g. ``BLUUM_READINESS_SERVER_IMPL=pure``)."""
    port = free_port()
    cmd = [*(taskset(cpus) if cpus else []), *cli_command(), "sandbox", "--port", str(port), "--db", db]
    cmd += ["--rate-limit", str(rate_limit)] + (["--fast"] if fast else [])
    environ = {**os.environ, **(env or {}), "BLUUM_API_KEY": key, "BLUUM_API_SECRET": secret}
    proc = subprocess.Popen(cmd, env=environ, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        if "listening on" in line:
            return proc, line.split("listening on", 1)[1].split()[0]
    proc.kill()
    raise SystemExit(f"the sandbox twin did not start: {proc.stdout.read()}")


def stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def active_investor_with_bank(client: httpx.Client, timeout_s: float = 10.0) -> tuple[str, str]:
    """Create an investor, wait until KYC makes it active (immediate on a ``--fast`` twin), link a bank:
    (investor id, funding source id). ``client`` has the API base URL and the key pair."""
    investor_id: str = client.post("/investors", json=investor_profile()).raise_for_status().json()["id"]
    deadline = time.monotonic() + timeout_s
    while client.get(f"/investors/{investor_id}").json()["status"] != "active":
        if time.monotonic() > deadline:
            raise SystemExit(f"investor {investor_id} did not become active within {timeout_s} s")
        time.sleep(0.01)
    connect = client.post(f"/investors/{investor_id}/funding-sources/connect", json=plaid_bank())
    source_id: str = connect.raise_for_status().json()["data"][0]["id"]
    return investor_id, source_id


def deposit_body(source_id: str, amount: str = "10.00") -> dict[str, str]:
    return {"amount": amount, "currency": "USD", "method": "ach", "funding_source_id": source_id}
