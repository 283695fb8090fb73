"""A real leak finding keeps its evidence: when ``observability.no-secrets-in-logs`` fails, its evidence matches the
report schema, so every report file is written and ``report --verify`` accepts the run's own record. (Its evidence
once held ``exchanges`` as a count, where the schema wants the transcript: readiness.json was written, then nothing
else, and --verify rejected it — the finding destroyed the evidence of itself.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bluum_readiness.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
LEAKY = "tests.integrations.cutover_variants:logs_authorization_header"  # its request log keeps the Authorization


def test_a_leak_finding_writes_every_report_file_and_a_verifiable_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(ROOT)
    out = tmp_path / "out"
    code = main(["run", "--only", "observability", "--integration", LEAKY, "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 1, captured.out[-3000:] + captured.err[-3000:]
    assert "rendering the report failed" not in captured.err
    document = json.loads((out / "readiness.json").read_text())
    check = next(c for i in document["items"] for c in i["checks"] if c["id"] == "observability.no-secrets-in-logs")
    assert check["status"] == "failed" and "Basic authorization token" in check["observed"]
    assert isinstance(check["evidence"]["exchanges"], list) and check["evidence"]["exchanges"]
    assert check["evidence"]["exchanges_seen"] == len(check["evidence"]["exchanges"])
    for name in ("readiness.html", "readiness.pdf", "readiness.md", "junit.xml"):
        assert (out / name).is_file(), name
    assert any((out / "allure-results").glob("*-result.json"))
    assert main(["report", "--verify", str(out / "readiness.json")]) == 0
    assert "intact" in capsys.readouterr().out
