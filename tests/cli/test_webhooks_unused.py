"""``[webhooks] used = false`` as a team runs it: an integration that consumes no Bluum webhooks can be READY, and
every output says the webhooks item is not applicable — the email "does not use Bluum webhooks"."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from bluum_readiness.cli._guards import HYPOTHESIS_ENV, user_cache_dir
from bluum_readiness.cli.main import main
from tests.fixtures.cli import Result

KEY_CREATED = (datetime.now(UTC).date() - timedelta(days=30)).isoformat()  # as the team's dashboard shows it
CONFIG = f"""\
integration = "tests.integrations.webhook_variants:no_receiver"

[credentials]
key_created = {KEY_CREATED}

[webhooks]
used = false

[company]
name = "Acme Invest"
dashboard_email = "ops@acme.example"
product_description = "Robo-advisor app for US retail investors"
integration_model = "server-to-server, no webhooks"
"""


def test_an_integration_without_webhooks_is_ready_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """In this process (``main``): the verdict and the outputs are the run's; the console command's process adds
    nothing asserted here (tests/cli/test_interrupt.py and test_no_lost_record.py run it)."""
    (tmp_path / "bluum-readiness.toml").write_text(CONFIG, encoding="utf-8")
    who = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com", "PATH": os.environ["PATH"], "HOME": str(tmp_path)}  # fmt: skip
    for git in (["init", "-q"], ["add", "."], ["commit", "-qm", "config"]):  # the history the secret scan reads
        subprocess.run(["git", *git], cwd=tmp_path, env=who, check=True, capture_output=True)
    for name in [k for k in os.environ if k.startswith(("BLUUM_", "PYTEST_XDIST", "PYTEST_ADDOPTS", "CI"))]:
        monkeypatch.delenv(name)
    # Hypothesis's files where the user's runs keep them (a warm cache of the source constants it draws from: from
    # a cold one, Hypothesis parses every module of this process, ~2 s of CPU); the run's other caches fresh
    monkeypatch.setenv(
        "HYPOTHESIS_STORAGE_DIRECTORY", os.environ.get(HYPOTHESIS_ENV) or str(user_cache_dir() / "hypothesis")
    )
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path.parent / f"{tmp_path.name}-cache"))
    monkeypatch.chdir(tmp_path)
    out = tmp_path.parent / f"{tmp_path.name}-out"
    code = main(["run", "--phase", "readiness", "--out", str(out)])
    captured = capsys.readouterr()
    done = Result(code, captured.out, captured.err)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "READY (all 4 applicable readiness items passed; not applicable: webhooks" in done.stdout, done.stdout
    record = json.loads((out / "readiness.json").read_text())
    items = {i["id"]: i for i in record["items"]}
    assert record["verdict"] == "ready" and items["webhooks"]["status"] == "not_applicable"
    assert {c["status"] for c in items["webhooks"]["checks"]} == {"not_applicable"}
    events = next(c for c in items["lifecycle"]["checks"] if c["id"] == "lifecycle.webhook-events")
    assert events["status"] == "not_applicable" and items["lifecycle"]["status"] == "passed"
    assert "NOT APPLICABLE" in (out / "readiness.html").read_text()
    email = message_from_bytes((out / "email.eml").read_bytes(), policy=policy.default)
    body = email.get_body(preferencelist=("plain",))
    assert body is not None
    line = next(x for x in body.get_content().splitlines() if "(webhooks)" in x)
    assert line.startswith("[x]") and "does not use Bluum webhooks" in line, line
