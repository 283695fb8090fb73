"""``bluum-readiness sandbox`` as a user runs it: a real process, a real port, a real SQLite file (configuration
errors, which end it before it serves, in the test's process: tests/fixtures/cli.py)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bluum_readiness._client_tls import default_tls_context
from bluum_readiness._serving import bind
from bluum_readiness.testing import investor_profile
from tests.fixtures.cli import Result, cli

KEY = "test_bluum_" + "ab" * 32
SECRET = "cd" * 32


class SandboxProcess:
    def __init__(self, db: Path, *extra: str, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bluum_readiness.cli.main", "sandbox", "--port", "0", "--db", str(db), *extra],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **(env or {})},
        )
        assert self.proc.stdout is not None
        self.banner = [self.proc.stdout.readline()]
        match = re.search(r"(http://127\.0\.0\.1:\d+/v1)", self.banner[0])
        assert match, self.banner[0] + (self.proc.stderr.read() if self.proc.stderr else "")
        self.base_url = match.group(1)
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                httpx.get(self.base_url + "/investors", timeout=1, verify=default_tls_context())
                return
            except httpx.TransportError:
                time.sleep(0.02)
        raise AssertionError("the sandbox did not answer within 10 s")

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self._close_pipes()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self._close_pipes()

    def _close_pipes(self) -> None:
        for pipe in (self.proc.stdout, self.proc.stderr):
            if pipe is not None and not pipe.closed:
                pipe.close()


@pytest.fixture
def seeded_env() -> dict[str, str]:
    return {"BLUUM_API_KEY": KEY, "BLUUM_API_SECRET": SECRET}


@pytest.fixture
def processes() -> Iterator[list[SandboxProcess]]:
    started: list[SandboxProcess] = []
    yield started
    for p in started:
        p.stop()


def test_first_start_prints_a_key_pair_once(tmp_path, processes):
    first = SandboxProcess(tmp_path / "twin.sqlite3")
    processes.append(first)
    assert first.proc.stdout is not None
    lines = [first.proc.stdout.readline() for _ in range(3)]
    key = lines[1].strip().removeprefix("BLUUM_API_KEY=")
    secret = lines[2].strip().removeprefix("BLUUM_API_SECRET=")
    assert re.fullmatch(r"test_bluum_[0-9a-f]{64}", key) and re.fullmatch(r"[0-9a-f]{64}", secret)
    assert httpx.get(first.base_url + "/investors", auth=(key, secret)).status_code == 200
    first.stop()
    second = SandboxProcess(tmp_path / "twin.sqlite3")
    processes.append(second)
    assert httpx.get(second.base_url + "/investors", auth=(key, secret)).status_code == 200
    second.proc.terminate()
    assert second.proc.stdout is not None
    everything_printed = "".join(second.banner) + second.proc.stdout.read()
    assert secret not in everything_printed and "BLUUM_API_SECRET" not in everything_printed


def test_kill_9_and_restart_loses_nothing_acknowledged(tmp_path, processes, seeded_env):
    db = tmp_path / "durable.sqlite3"
    first = SandboxProcess(db, "--fast", env=seeded_env)
    processes.append(first)
    with httpx.Client(base_url=first.base_url, auth=(KEY, SECRET)) as c:
        created = [
            c.post("/investors", json=investor_profile(), headers={"Idempotency-Key": f"inv-{i}"}) for i in range(5)
        ]
        assert all(r.status_code == 201 for r in created)
    first.kill9()

    second = SandboxProcess(db, "--fast", env=seeded_env)
    processes.append(second)
    with httpx.Client(base_url=second.base_url, auth=(KEY, SECRET)) as c:
        listed = {i["id"] for i in c.get("/investors").json()["data"]}
        assert listed == {r.json()["id"] for r in created}
        replay = c.post("/investors", json=investor_profile(), headers={"Idempotency-Key": "inv-0"})
        assert replay.status_code == 409 and replay.json()["error"]["code"] == "BLUM-409-002"  # key remembered


def _run(*args: str) -> Result:
    """A configuration error ends the command before it serves: in this process (real ones: SandboxProcess)."""
    return cli(*args)


def test_port_in_use_is_a_one_line_error_exit_2(tmp_path):
    sock = bind("127.0.0.1", 0)
    try:
        port = sock.getsockname()[1]
        result = _run("sandbox", "--port", str(port), "--db", str(tmp_path / "x.sqlite3"))
    finally:
        sock.close()
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"bluum-readiness: error: port {port} on 127.0.0.1 is in use; pass --port with a free port (or 0 for any)"
    ]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--db", "/no/such/dir/twin.sqlite3"], "folder /no/such/dir does not exist"),
        (["--rate-limit", "0"], "rate_limit_per_s=0.0 must be > 0"),
        (["--port", "70000"], "--port 70000 is not a port"),
    ],
)
def test_bad_configuration_exits_2_without_traceback(tmp_path, args, expected):
    result = _run("sandbox", "--port", "0", *args)
    assert result.returncode == 2, result
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_not_a_database_file(tmp_path):
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"this is not sqlite" * 100)
    result = _run("sandbox", "--port", "0", "--db", str(junk))
    assert result.returncode == 2 and "is not a usable twin database" in result.stderr
    assert "Traceback" not in result.stderr


def test_half_seeded_credentials_are_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("BLUUM_API_KEY", KEY)
    monkeypatch.delenv("BLUUM_API_SECRET", raising=False)
    result = _run("sandbox", "--port", "0", "--db", ":memory:")
    assert result.returncode == 2 and "set both BLUUM_API_KEY and BLUUM_API_SECRET" in result.stderr


@pytest.mark.parametrize(
    ("flags", "rate"),
    [((), 10.0), (("--fast",), 1000.0), (("--fast", "--rate-limit", "5"), 5.0), (("--rate-limit", "3"), 3.0)],
    ids=["default", "fast", "fast-explicit", "explicit"],
)
def test_fast_keeps_its_generous_rate_limit_and_an_explicit_one_wins(flags: tuple[str, ...], rate: float) -> None:
    from bluum_readiness.cli.main import build_parser
    from bluum_readiness.cli.sandbox import settings_of

    assert settings_of(build_parser().parse_args(["sandbox", *flags])).rate_limit_per_s == rate


def _burst(base_url: str, n: int) -> list[int]:
    with httpx.Client(base_url=base_url, auth=(KEY, SECRET), timeout=10) as c:
        return [c.get("/assets", params={"limit": 1}).status_code for _ in range(n)]


def test_a_fast_sandbox_serves_a_burst_an_explicit_rate_limit_refuses(tmp_path, processes, seeded_env):
    fast = SandboxProcess(tmp_path / "fast.sqlite3", "--fast", env=seeded_env)
    processes.append(fast)
    assert "rate limit 1000 requests/s per key pair" in fast.banner[0]
    assert _burst(fast.base_url, 30) == [200] * 30, "--fast promises a generous limit, not Bluum's 10/s"
    fast.stop()

    limited = SandboxProcess(tmp_path / "limited.sqlite3", "--fast", "--rate-limit", "2", env=seeded_env)
    processes.append(limited)
    assert "rate limit 2 requests/s per key pair" in limited.banner[0]
    statuses = _burst(limited.base_url, 8)
    assert statuses[0] == 200 and 429 in statuses, statuses
