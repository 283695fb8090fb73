"""A real ``bluum-readiness run`` (embedded twin, a known-bad integration, a team webhook endpoint) as a user runs
it, from their own folder: every report file is written, and no secret appears in any of them or on the console."""

from __future__ import annotations

import base64
import io
import os
from email import message_from_bytes, policy
from pathlib import Path

import pypdf
import pytest

from bluum_readiness.cli.main import main
from bluum_readiness.report import model
from bluum_readiness.webhooks.receiver import ReferenceReceiver
from bluum_readiness.webhooks.tls import LocalCA
from tests.fixtures.cli import Result

API_KEY = "e2e-known-key-id"
API_SECRET = "e2e-known-api-secret-5f1c2a9d"
WEBHOOK_SECRET = "whsec_ZTJlLWtub3duLXdlYmhvb2stc2VjcmV0LTc3"
BASIC = base64.b64encode(f"{API_KEY}:{API_SECRET}".encode()).decode()
OUTPUTS = {"readiness.json", "readiness.html", "readiness.pdf", "readiness.md", "junit.xml", "email.eml", "email.txt"}


def _in_this_process(monkeypatch: pytest.MonkeyPatch, cwd: Path, env: dict[str, str] | None = None) -> None:
    """The environment a user's shell gives the command, in ``cwd``, for ``main`` in the test's process: the real
    process adds nothing these tests assert (its console is captured at the file descriptors, children's output
    included, with ``capfd``)."""
    for name in [k for k in os.environ if k.startswith(("BLUUM_", "PYTEST_XDIST", "PYTEST_ADDOPTS"))]:
        monkeypatch.delenv(name)
    monkeypatch.delenv("CI", raising=False)
    for name, value in (env or {}).items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(cwd)


def _texts(out: Path) -> dict[str, str]:
    """Every output file as text a reader would see: raw bytes, the PDF's extracted text, the email decoded."""
    texts: dict[str, str] = {}
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        raw = path.read_bytes()
        texts[str(path.relative_to(out))] = raw.decode("utf-8", "replace")
        if path.suffix == ".pdf":
            texts[f"{path.name} (text)"] = "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(raw)).pages)
        if path.suffix == ".eml":
            message = message_from_bytes(raw, policy=policy.default)
            for part in message.walk():
                content = part.get_content() if not part.is_multipart() else ""
                if isinstance(content, bytes):
                    pdf = pypdf.PdfReader(io.BytesIO(content))
                    content = "\n".join(p.extract_text() for p in pdf.pages)
                texts[f"{path.name} part {part.get_content_type()}"] = str(content)
    return texts


@pytest.fixture(scope="module")
def team_endpoint():  # type: ignore[no-untyped-def]
    ca = LocalCA()
    receiver = ReferenceReceiver(lambda: WEBHOOK_SECRET, tls=ca.issue(stem="e2e")).start()
    yield receiver.url, ca.ca_file
    receiver.stop()
    ca.cleanup()


def test_a_failing_run_writes_every_file_and_no_secret_anywhere(  # type: ignore[no-untyped-def]
    team_endpoint, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    url, ca_file = team_endpoint
    (tmp_path / "bluum-readiness.toml").write_text(
        f"""[company]
name = "Acme Invest"
dashboard_email = "ops@acme.example"
product_description = "Robo-advisor app"
integration_model = "server-to-server"

[webhooks]
url = "{url}"
secret_env = "ACME_WEBHOOK_SECRET"
ca_file = "{ca_file}"
""",
        encoding="utf-8",
    )
    env = {"BLUUM_API_KEY": API_KEY, "BLUUM_API_SECRET": API_SECRET, "ACME_WEBHOOK_SECRET": WEBHOOK_SECRET}
    _in_this_process(monkeypatch, tmp_path, env)
    args = ("run", "--integration", "tests.integrations.variants:no_key", "--out", "out")
    code = main([*args, "--only", "smoke-test", "--only", "idempotency", "--only", "webhooks"])
    captured = capfd.readouterr()
    result = Result(code, captured.out, captured.err)
    console = result.stdout + result.stderr
    assert result.returncode == 1, console
    out = tmp_path / "out"
    assert OUTPUTS <= {p.name for p in out.iterdir()} and list((out / "allure-results").glob("*-result.json"))
    for name in OUTPUTS - {"readiness.json"}:
        assert f"{name}: {out / name}" in result.stdout, name
    document = model.load_report(out / "readiness.json")
    assert document["verdict"] == "not_ready" and model.verify_digest(document)[0]
    failed = [
        c for i in document["items"] for c in i["checks"] if c["status"] == "failed" and c["severity"] == "required"
    ]
    assert [c["id"] for c in failed] == ["idempotency.key-on-every-transfer"]
    assert failed[0]["fix"] and failed[0]["evidence"]["exchanges"][0]["request_id"].startswith("req_")
    webhooks = next(i for i in document["items"] if i["id"] == "webhooks")
    assert any(c["status"] == "passed" for c in webhooks["checks"]), "the deliveries reached the team endpoint"
    texts = _texts(out)
    texts["console"] = console
    for secret in (API_SECRET, WEBHOOK_SECRET, BASIC):
        leaks = [where for where, text in texts.items() if secret in text]
        assert not leaks, f"a secret appears in {leaks}"
    assert API_KEY in texts["readiness.json"], "the seeded pair was used (its key id, not secret, is evidence)"
    assert main(["report", "--verify", str(out / "readiness.json")]) == 0  # in this process: it reads a file


def test_a_run_without_company_details_says_how_to_add_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _in_this_process(monkeypatch, tmp_path)
    integration = ("--integration", "tests.integrations.variants:correct_different")  # the team's, not the demo
    code = main(["run", *integration, "--only", "smoke-test", "--out", "out"])
    captured = capsys.readouterr()
    result = Result(code, captured.out, captured.err)
    assert result.returncode == 0, result.stdout + result.stderr
    line = next(line for line in result.stdout.splitlines() if "email.eml/email.txt not written" in line)
    assert "missing name, dashboard_email, product_description, integration_model" in line
    assert "bluum-readiness.toml" in line and "bluum-readiness report out/readiness.json --out out" in line
    assert (tmp_path / "out" / "readiness.pdf").exists() and not (tmp_path / "out" / "email.eml").exists()
