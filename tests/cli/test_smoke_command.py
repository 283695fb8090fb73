"""``bluum-readiness smoke`` as a user runs it, against a real twin (a real process once; the other cases in the
test's process, tests/fixtures/cli.py: the command is one request and its answer)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import httpx
import pytest

from bluum_readiness.cli.main import main
from bluum_readiness.integration import Credentials
from bluum_readiness.proxy import FaultRule, Plan, ProxyServer, StatusFault
from bluum_readiness.smoke import RATE_LIMITED_RETRIES, smoke_test
from tests.fixtures.cli import Result, cli


def _smoke(*args: str, key: str | None, secret: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BLUUM_")}
    if key is not None and secret is not None:
        env.update(BLUUM_API_KEY=key, BLUUM_API_SECRET=secret)
    return subprocess.run([sys.executable, "-m", "bluum_readiness.cli.main", "smoke", *args],
                          capture_output=True, text=True, env=env, timeout=30)  # fmt: skip


def _smoke_here(*args: str, **variables: str | None) -> Result:
    """As ``_smoke``, in this process (tests/fixtures/cli.py): the command is one request and its answer."""
    unset: dict[str, str | None] = {k: None for k in os.environ if k.startswith("BLUUM_")}
    return cli("smoke", *args, env={**unset, **variables})


def test_smoke_passes_with_good_credentials(twin_server):
    result = _smoke("--target", twin_server.base_url, key=twin_server.pair.key, secret=twin_server.pair.secret)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("✓ smoke test GET") and "200 OK" in result.stdout and "req_" in result.stdout
    assert twin_server.pair.secret not in result.stdout + result.stderr


def test_smoke_reports_a_401_as_credentials_not_updated(twin_server):
    result = _smoke_here(
        "--target", twin_server.base_url, BLUUM_API_KEY=twin_server.pair.key, BLUUM_API_SECRET="0" * 64
    )
    assert result.returncode == 3
    assert "401 (BLUM-401-003" in result.stdout and "the key or secret was not updated" in result.stdout
    assert "0" * 64 not in result.stdout


def test_smoke_never_writes(twin_server):
    with httpx.Client(base_url=twin_server.base_url, auth=twin_server.auth) as c:
        before = c.get("/investors").json()["data"]
    smoke_test(twin_server.base_url, Credentials(*twin_server.auth))
    ledger_events = httpx.get(twin_server.origin + "/_sandbox/events", auth=twin_server.auth).json()["data"]
    assert ledger_events == [] and before == []


def test_smoke_unreachable_and_usage_errors():
    unreachable = _smoke_here("--target", "http://127.0.0.1:9/v1", BLUUM_API_KEY="k", BLUUM_API_SECRET="s")
    assert unreachable.returncode == 3 and "no answer from http://127.0.0.1:9/v1/assets" in unreachable.stdout
    missing = _smoke_here("--target", "http://127.0.0.1:9/v1")
    assert missing.returncode == 2 and "set BLUUM_API_KEY and BLUUM_API_SECRET" in missing.stderr
    no_target = _smoke_here(BLUUM_API_KEY="k", BLUUM_API_SECRET="s")
    assert no_target.returncode == 2 and "pass --target" in no_target.stderr


def _smoke_env(twin_server, **variables: str) -> Result:
    return _smoke_here(BLUUM_API_KEY=twin_server.pair.key, BLUUM_API_SECRET=twin_server.pair.secret, **variables)


def test_smoke_reads_the_base_url_adapters_get_and_the_old_name_with_a_deprecation_line(twin_server):
    current = _smoke_env(twin_server, BLUUM_API_BASE_URL=twin_server.base_url)
    assert current.returncode == 0, current.stderr
    assert "deprecated" not in current.stderr
    old = _smoke_env(twin_server, BLUUM_BASE_URL=twin_server.base_url)
    assert old.returncode == 0, old.stderr
    [line] = old.stderr.splitlines()
    assert "BLUUM_BASE_URL is deprecated; set BLUUM_API_BASE_URL instead" in line
    # both set: the current name wins, silently (the old one points at a closed port here)
    both = _smoke_env(twin_server, BLUUM_API_BASE_URL=twin_server.base_url, BLUUM_BASE_URL="http://127.0.0.1:9/v1")
    assert both.returncode == 0 and both.stderr == "", both.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--timeout", "nan"], "must be a number of seconds above 0"),
        (["--timeout", "inf"], "must be a number of seconds above 0"),
        (["--timeout", "-1"], "must be a number of seconds above 0"),
        (["--timeout", "soon"], "is not a number of seconds"),
        (["--target", "http://[::1/v1"], "Invalid IPv6 URL"),
        (["--target", "http://127.0.0.1:9"], "must be the API base URL ending in /v1"),
        (["--target", "embedded"], "not 'embedded'"),
    ],
)
def test_smoke_options_are_checked_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    """--timeout nan/inf/-1 once reached httpx (ValueError, OverflowError tracebacks); a target is held to the one
    rule for a base URL."""
    monkeypatch.setenv("BLUUM_API_KEY", "k")
    monkeypatch.setenv("BLUUM_API_SECRET", "s")
    argv = ["smoke", "--target", "http://127.0.0.1:9/v1", *args]
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's usage error
        code = int(exc.code or 0)
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err


def _behind(twin_server, rule: FaultRule) -> ProxyServer:
    """The twin behind a proxy applying ``rule``: the live application taking the key pair's rate limit."""
    return ProxyServer(twin_server.base_url, Plan(rules=(rule,)))


def _busy(**when: int) -> FaultRule:
    return FaultRule("live-app", StatusFault(429, retry_after=0), method="GET", path="/v1/assets", **when)


def test_a_smoke_test_rate_limited_by_the_live_application_waits_it_out_and_says_so(twin_server, tmp_path):
    """Production's pair is the live application's too: two 429s, then the 200. The smoke test passes, saying it
    waited, and smoke.json keeps the waits (over real sockets, the command in this process)."""
    with _behind(twin_server, _busy(first=2)) as proxy:
        pair = {"BLUUM_API_KEY": twin_server.pair.key, "BLUUM_API_SECRET": twin_server.pair.secret}
        result = _smoke_here("--target", proxy.base_url, "--out", str(tmp_path), **pair)
    assert result.returncode == 0 and "after 2 rate-limited answers (429; waited 0 s" in result.stdout, result.stdout
    assert json.loads((tmp_path / "smoke.json").read_text())["rate_limited_waits_s"] == [0.0, 0.0]


def test_a_smoke_test_the_key_pairs_limit_keeps_refusing_says_whose_limit_it_is(twin_server):
    waited: list[float] = []
    with _behind(twin_server, _busy()) as proxy:
        result = smoke_test(proxy.base_url, Credentials(*twin_server.auth), sleep=waited.append)
    assert not result.ok and result.status == 429 and waited == [0.0] * RATE_LIMITED_RETRIES
    assert "429 (BLUM-429-001, request req_" in result.message and f"{RATE_LIMITED_RETRIES + 1} times" in result.message
    assert "rate limit is in use by another client (the live application" in result.message, result.message


@pytest.fixture(scope="module")
def website():  # type: ignore[no-untyped-def]
    """A single-page website: its HTML, 200, to every path and whatever the credentials (a wrong base URL)."""
    from starlette.applications import Starlette
    from starlette.responses import HTMLResponse
    from starlette.routing import Route

    from bluum_readiness._serving import BackgroundServer

    async def page(request):  # type: ignore[no-untyped-def]
        return HTMLResponse("<!doctype html><html><body><div id=root></div></body></html>")

    app = Starlette(routes=[Route("/{path:path}", page, methods=["GET", "POST"])])
    with BackgroundServer(app) as server:
        yield server.url + "/v1"


def test_a_website_answering_200_at_the_base_url_fails_the_smoke_test_and_stops_a_run(website, tmp_path):
    """Before: "200 OK … base URL and credentials work", exit 0 — a pass on a status alone, the key pair never
    looked at; a run went on to break every check on the HTML. Now both say the body is not the API's, exit 3."""
    smoke = _smoke_here("--target", website, "--out", str(tmp_path / "smoke"), BLUUM_API_KEY="k", BLUUM_API_SECRET="s")
    assert smoke.returncode == 3, smoke.stdout + smoke.stderr
    assert smoke.stdout.startswith("✗ smoke test GET") and "its body is not JSON (text/html" in smoke.stdout
    assert json.loads((tmp_path / "smoke" / "smoke.json").read_text())["status"] == "failed"
    run = cli("run", "--target", website, "--integration", "bluum_readiness.reference:create_fast", "--out",
              str(tmp_path / "run"), env={"BLUUM_API_KEY": "k", "BLUUM_API_SECRET": "s"})  # fmt: skip
    assert run.returncode == 3, run.stdout + run.stderr
    assert "answered GET /assets?limit=1 with HTTP 200, but its body is not JSON" in run.stderr
    assert "point the base URL at the API, ending in /v1" in run.stderr
