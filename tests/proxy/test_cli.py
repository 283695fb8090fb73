"""``bluum-readiness proxy`` as a user runs it: a real sandbox process, a real proxy process, a TOML plan
(configuration errors, which end it before it serves, in the test's process: tests/fixtures/cli.py)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bluum_readiness._client_tls import default_tls_context
from bluum_readiness._serving import bind
from bluum_readiness.credentials.scan import scan
from bluum_readiness.credentials.scan_cache import ScanCache
from bluum_readiness.redaction import mask_key_ids
from bluum_readiness.testing import investor_profile
from tests.fixtures.cli import Result, cli

PLAN = """
seed = 3

[[rules]]
name = "second-post-rate-limited"
fault = "status"
status = 429
retry_after = 5
method = "POST"
path = "/v1/investors"
nth = 2

[[rules]]
name = "third-post-dropped"
fault = "drop_after"
method = "POST"
path = "/v1/investors"
nth = 3
"""


def start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bluum_readiness.cli.main", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def stop(proc: subprocess.Popen[str]) -> str:
    if proc.poll() is None:
        proc.terminate()
    out, _ = proc.communicate(timeout=10)
    return out


@pytest.fixture
def sandbox() -> Iterator[tuple[str, tuple[str, str]]]:
    proc = start("sandbox", "--port", "0", "--fast", "--db", ":memory:")
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(4)]
        url = re.search(r"(http://127\.0\.0\.1:\d+/v1)", lines[0])
        assert url, "".join(lines)
        key = lines[2].strip().removeprefix("BLUUM_API_KEY=")
        secret = lines[3].strip().removeprefix("BLUUM_API_SECRET=")
        yield url.group(1), (key, secret)
    finally:
        stop(proc)


def wait_ready(url: str) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1, verify=default_tls_context())
            return
        except httpx.TransportError:
            time.sleep(0.02)
    raise AssertionError(f"nothing answered on {url} within 10 s")


def test_proxy_command_applies_a_toml_plan_and_records(tmp_path: Path, sandbox: tuple[str, tuple[str, str]]) -> None:
    upstream, auth = sandbox
    plan, record = tmp_path / "plan.toml", tmp_path / "exchanges.jsonl"
    plan.write_text(PLAN)
    proc = start("proxy", "--upstream", upstream, "--port", "0", "--plan", str(plan), "--record", str(record))
    try:
        assert proc.stdout is not None
        banner = proc.stdout.readline()
        found = re.search(r"listening on (http://127\.0\.0\.1:(\d+)/v1)", banner)
        assert found, banner + (proc.stderr.read() if proc.stderr else "")
        assert "2 rule(s)" in proc.stdout.readline()
        base_url = found.group(1)
        wait_ready(base_url.removesuffix("/v1") + "/__proxy/version")
        with httpx.Client(base_url=base_url, auth=auth, timeout=5) as c:
            assert c.post("/investors", json=investor_profile()).status_code == 201
            limited = c.post("/investors", json=investor_profile())
            assert limited.status_code == 429 and limited.headers["retry-after"] == "5"
            with pytest.raises(httpx.RemoteProtocolError):
                c.post("/investors", json=investor_profile())
            assert len(c.get("/investors").json()["data"]) == 2  # the dropped one was committed
    finally:
        stop(proc)
    lines = [json.loads(line) for line in record.read_text().splitlines()]
    assert [(e["status"], e["outcome"], e["fault"]) for e in lines] == [
        (201, "forwarded", None),
        (429, "status", "second-post-rate-limited"),
        (None, "dropped", "third-post-dropped"),
        (200, "forwarded", None),
    ]
    assert all(e["auth_key_id"] == mask_key_ids(auth[0]) for e in lines)  # masked, as in every report
    assert auth[0] not in record.read_text() and auth[1] not in record.read_text()
    # kept in the project, the record is no finding of the next secret scan (neither the key id nor the body
    # digests recorded beside it, the shape of a Bluum secret beside its key)
    scanned = scan(["."], cwd=tmp_path, cache=ScanCache(None))
    assert scanned.files_scanned >= 1 and [str(f) for f in scanned.findings] == []


def run(*args: str) -> Result:
    """A configuration error ends the command before it serves: in this process (a real one: the test above)."""
    return cli("proxy", *args)


def test_port_in_use_is_a_one_line_error() -> None:
    sock = bind("127.0.0.1", 0)
    try:
        port = sock.getsockname()[1]
        result = run("--upstream", "http://127.0.0.1:1/v1", "--port", str(port))
    finally:
        sock.close()
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"bluum-readiness: error: port {port} on 127.0.0.1 is in use; pass --port with a free port (or 0 for any)"
    ]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--upstream", "ftp://x"], "upstream 'ftp://x' must be an http(s) URL"),
        (["--upstream", "http://x/v1", "--port", "70000"], "--port 70000 is not a port"),
        (["--upstream", "http://x/v1", "--plan", "/no/such/plan.toml"], "plan file /no/such/plan.toml does not exist"),
        (["--upstream", "http://x/v1", "--plan", "BAD"], "rules[0] ('x'): unknown key 'nht' (did you mean 'nth'?)"),
    ],
)
def test_bad_configuration_exits_2_with_one_line(tmp_path: Path, args: list[str], expected: str) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[rules]]\nname = "x"\nfault = "drop_after"\nnth = 1\nnht = 2\n')
    result = run("--port", "0", *[str(bad) if a == "BAD" else a for a in args])
    assert result.returncode == 2, result
    assert expected in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
