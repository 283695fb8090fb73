"""``bluum-readiness report --combine``: runs of one integration merged into one record — which outcome each check
shows, what is refused and why, and (end to end, over real sockets) a run against a twin started as a separate
"real" target plus a twin run give a send-ready email."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest

from bluum_readiness.cli.main import main
from bluum_readiness.report import digest, model
from bluum_readiness.report.combine import CannotCombine, combine
from bluum_readiness.suite.results import CheckResult, write_json
from tests.fixtures.cli import Result
from tests.report.conftest import SANDBOX_TARGET, results, write_run

LIFECYCLE = ["lifecycle"]


def _lifecycle(folder: Path, statuses: dict[str, str], **kw: Any) -> Path:
    made = [
        CheckResult(f"t::{name}", "lifecycle", f"lifecycle.{name}", name, status=status)  # type: ignore[arg-type]
        for name, status in statuses.items()
    ]
    return write_run(folder, failing=False, items=LIFECYCLE, made=made, **kw)


def _combined(*paths: Path) -> dict[str, Any]:
    report = combine([(str(p), model.load_report(p)) for p in paths])
    return model.load_report(write_json(report, paths[0].parent.parent / "combined"))


def _check(document: dict[str, Any], check_id: str) -> dict[str, Any]:
    return next(c for i in document["items"] for c in i["checks"] if c["id"] == check_id)


def test_each_check_shows_a_failure_first_then_the_most_real_pass(tmp_path: Path) -> None:
    sandbox = _lifecycle(
        tmp_path / "a",
        {"journey": "passed", "ledger": "not_verifiable", "errors": "passed", "hooks": "passed"},
        target=SANDBOX_TARGET,
    )
    twin = _lifecycle(tmp_path / "b", {"journey": "passed", "ledger": "passed", "errors": "failed", "hooks": "passed"})
    document = _combined(sandbox, twin)
    journey, ledger, errors = (_check(document, f"lifecycle.{n}") for n in ("journey", "ledger", "errors"))
    assert journey["provenance"]["source"] == "sandbox", "a pass against the real sandbox wins over the twin's"
    assert [r["source"] for r in journey["runs"]] == ["sandbox", "twin"]
    assert ledger["status"] == "passed" and ledger["provenance"] == {"source": "twin", "target": "embedded"}
    assert errors["status"] == "failed" and errors["provenance"]["source"] == "twin", "a failure is never hidden"
    assert document["verdict"] == "not_ready" and len(document["combined"]) == 2
    assert model.verify_digest(document)[0], "one digest over the combined record"


def test_the_lifecycle_proven_in_the_sandbox_makes_the_request_send_ready(tmp_path: Path) -> None:
    """A twin run of every item plus a sandbox run of the lifecycle (the ledger check could not judge there)."""
    statuses = {"full-journey": "passed", "ledger": "not_verifiable"}
    sandbox = _lifecycle(tmp_path / "a", statuses, target=SANDBOX_TARGET)
    ledger = CheckResult("t::ledger", "lifecycle", "lifecycle.ledger", "ledger")
    twin = write_run(
        tmp_path / "b", failing=False, complete=True, made=[*results(failing=False, complete=True), ledger]
    )
    alone = model.load_report(twin)
    assert (
        alone["request"]["send_ready"] is False
        and "lifecycle: proven against the local" in alone["request"]["missing"][0]
    )
    document = _combined(sandbox, twin)
    assert document["request"] == {"send_ready": True, "missing": []}, document["request"]
    assert document["verdict"] == "ready"


def _refused(tmp_path: Path, change: Any, match: str) -> None:
    a = write_run(tmp_path / "a", failing=False, target=SANDBOX_TARGET)
    b = write_run(tmp_path / "b", failing=False)
    document = json.loads(b.read_text())
    change(document)
    document["digest"]["value"] = digest.recompute(document)
    b.write_text(json.dumps(document))
    with pytest.raises(CannotCombine, match=match):
        combine([(str(a), model.load_report(a)), (str(b), model.load_report(b))])


def test_runs_of_another_integration_or_configuration_are_refused_with_the_reason(tmp_path: Path) -> None:
    def other_integration(d: dict[str, Any]) -> None:
        d["integration_identity"]["integration"] = "other_adapter:create"

    def other_configuration(d: dict[str, Any]) -> None:
        d["integration_identity"]["configuration"] = "sha256:" + "d" * 64

    def version_2(d: dict[str, Any]) -> None:
        d["schema_version"] = "2"
        del d["integration_identity"]

    _refused(tmp_path / "1", other_integration, "runs of different integrations")
    _refused(tmp_path / "2", other_configuration, "runs of different configurations")
    _refused(tmp_path / "3", version_2, "before schema version 3")


def test_an_altered_or_interrupted_record_is_refused(tmp_path: Path) -> None:
    a = write_run(tmp_path / "a", failing=False, target=SANDBOX_TARGET)
    b = write_run(tmp_path / "b", failing=False)
    altered = json.loads(b.read_text())
    altered["verdict"] = "ready"
    with pytest.raises(CannotCombine, match="does not match its digest"):
        combine([(str(a), model.load_report(a)), (str(b), altered)])
    stopped = write_run(tmp_path / "c", failing=False, interrupted="SIGINT")
    with pytest.raises(CannotCombine, match="interrupted run"):
        combine([(str(a), model.load_report(a)), (str(stopped), model.load_report(stopped))])


ADAPTER = "from bluum_readiness.reference import create_fast as create\n"
KEY_CREATED = (datetime.now(UTC).date() - timedelta(days=30)).isoformat()  # as the team's dashboard shows it
CONFIG = f"""integration = "acme_adapter:create"
rate_limit_per_s = 1000

[credentials]
key_created = {KEY_CREATED}

[company]
name = "Acme Invest"
dashboard_email = "ops@acme.example"
product_description = "Robo-advisor app"
integration_model = "server-to-server"
"""


def _clean_env(env: dict[str, str]) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("BLUUM_", "PYTEST_XDIST", "PYTEST_ADDOPTS"))}
    clean.pop("CI", None)
    clean.pop("HYPOTHESIS_STORAGE_DIRECTORY", None)
    return {**clean, **env}


def _in_this_process(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], cwd: Path, *args: str, env: dict[str, str]
) -> Result:
    """``bluum-readiness ARGS`` through ``main`` in the test's process, in ``cwd`` with the environment the real
    process below gets: for the commands whose process adds nothing asserted here."""
    clean = _clean_env(env)
    with monkeypatch.context() as scoped:
        for name in [k for k in os.environ if k not in clean]:
            scoped.delenv(name)
        for name, value in env.items():
            scoped.setenv(name, value)
        scoped.chdir(cwd)
        capsys.readouterr()
        code = main(list(args))
        captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)


def test_a_sandbox_run_and_a_twin_run_combine_into_a_send_ready_request(  # type: ignore[no-untyped-def]
    twin_server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The twin server stands in for Bluum's sandbox: a real target URL over real sockets. The twin run is a real
    process (where Hypothesis keeps its files is decided once per process: this one's is the test session's); the
    sandbox run, side by side with it, and the report commands run in this process."""
    (tmp_path / "acme_adapter.py").write_text(ADAPTER, encoding="utf-8")
    (tmp_path / "bluum-readiness.toml").write_text(CONFIG, encoding="utf-8")
    # a project under git, as a team's is: the secret scan judges its history too (a folder without one is not
    # verifiable for the credentials item, and the request would not be send-ready)
    who = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
    }
    for git in (["init", "-q"], ["add", "."], ["commit", "-qm", "acme adapter"]):
        subprocess.run(["git", *git], cwd=tmp_path, env=who, check=True, capture_output=True)
    cache = tmp_path.parent / f"{tmp_path.name}-cache"
    outs = tmp_path.parent / f"{tmp_path.name}-outs"  # outside the project the secret scan reads
    env = {
        "BLUUM_API_KEY": twin_server.pair.key,
        "BLUUM_API_SECRET": twin_server.pair.secret,
        "XDG_CACHE_HOME": str(cache),
    }
    # independent runs (their own --out): side by side, to keep the test short
    running_twin = subprocess.Popen([sys.executable, "-m", "bluum_readiness.cli.main", "run", "--phase", "readiness",
                                     "--out", str(outs / "twin")], cwd=tmp_path, env=_clean_env(env),
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        sandbox = _in_this_process(monkeypatch, capsys, tmp_path, "run", "--target", twin_server.base_url,
                                   "--only", "lifecycle", "--out", str(outs / "sandbox"), env=env)  # fmt: skip
        twin_out, twin_err = running_twin.communicate(timeout=240)
    finally:
        if running_twin.poll() is None:
            running_twin.kill()
            running_twin.communicate()
    assert sandbox.returncode == 0, sandbox.stdout + sandbox.stderr
    assert running_twin.returncode == 0, twin_out + twin_err
    money = _check(model.load_report(outs / "twin" / "readiness.json"), "lifecycle.money-invariants")
    assert money["status"] == "passed", "Hypothesis ran"
    assert not (tmp_path / ".hypothesis").exists(), "nothing of Hypothesis in the team's working tree"
    ours = {
        "acme_adapter.py",
        "bluum-readiness.toml",
        "__pycache__",
        ".git",
    }  # __pycache__: Python's, when it may write one
    assert not [p.name for p in tmp_path.iterdir() if p.name not in ours], "no cache left in the working tree"
    assert (cache / "bluum-readiness" / "hypothesis").is_dir(), "it went to the user's cache folder"
    alone = message_from_bytes((outs / "twin" / "email.eml").read_bytes(), policy=policy.default)
    assert alone["Subject"].startswith("DRAFT - DO NOT SEND"), "the twin alone never proves the sandbox lifecycle"

    done = _in_this_process(monkeypatch, capsys, tmp_path, "report", "--combine", str(outs / "sandbox"),
                            str(outs / "twin" / "readiness.json"), env=env)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "production-access request: ready to send" in done.stdout
    out = tmp_path / "readiness-combined"
    document = model.load_report(out / "readiness.json")
    assert document["request"]["send_ready"] is True and model.verify_digest(document)[0]
    journey = _check(document, "lifecycle.full-journey")
    assert journey["provenance"] == {"source": "sandbox", "target": twin_server.base_url}
    message = message_from_bytes((out / "email.eml").read_bytes(), policy=policy.default)
    subject = str(message["Subject"]).strip()
    assert subject.startswith("Production access request: Acme Invest") and "X-Unsent" not in message
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    lifecycle = next(x for x in text.splitlines() if "(lifecycle)" in x)
    assert lifecycle.startswith("[x]") and f"tested in sandbox ({twin_server.base_url})" in lifecycle
    assert "This report combines 2 runs" in text
    # the key pair's age: declared by the team, never worded as observed — in either run
    assert _check(document, "credentials.key-age")["provenance"] == {
        "source": "declared",
        "target": f"[credentials] key_created = {KEY_CREATED}",
    }
    credentials = next(x for x in text.splitlines() if "(credentials)" in x)
    assert f"declared by the team in [credentials] key_created = {KEY_CREATED}, not observed" in credentials
    assert main(["report", "--verify", str(out / "readiness.json")]) == 0


def test_a_sandbox_run_alone_says_how_to_prove_what_only_the_twin_can(tmp_path: Path) -> None:
    sandbox = _lifecycle(tmp_path / "a", {"full-journey": "passed", "ledger": "not_verifiable"}, target=SANDBOX_TARGET)
    missing = model.load_report(sandbox)["request"]["missing"]
    lifecycle = next(m for m in missing if m.startswith("lifecycle:"))
    assert "not verified" in lifecycle and "bluum-readiness report --combine" in lifecycle
