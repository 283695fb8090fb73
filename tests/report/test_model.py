"""readiness.json against its published schema, and the digest that makes later changes visible."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from bluum_readiness.report import digest, model
from tests.report.conftest import find_check

ROOT = Path(__file__).resolve().parents[2]
DOCS_SCHEMA = ROOT / "docs" / "report-schema.json"
JITTER = "error-handling.429-jitter"


def test_the_published_schema_is_the_one_the_package_ships() -> None:
    assert json.loads(DOCS_SCHEMA.read_text()) == model.schema()


@pytest.mark.parametrize("fixture", ["not_ready_json", "passed_json", "ready_json", "interrupted_json"])
def test_a_written_report_validates_against_docs_report_schema(fixture: str, request: pytest.FixtureRequest) -> None:
    document = json.loads(Path(request.getfixturevalue(fixture)).read_text())
    jsonschema.Draft202012Validator(json.loads(DOCS_SCHEMA.read_text())).validate(document)
    assert document["schema_version"] == "3" and document["target"]["environment"] == "embedded_twin"
    failed = [c for i in document["items"] for c in i["checks"] if c["status"] != "passed"]
    assert all(c["reason"] for c in failed), "every check that did not pass says why"
    assert bool(failed) == (fixture != "ready_json")


def test_the_schema_rejects_what_is_not_a_report(not_ready_json: Path) -> None:
    document = json.loads(not_ready_json.read_text())
    document["verdict"] = "probably"
    with pytest.raises(model.NotAReport, match="at verdict"):
        model.validate(document)
    with pytest.raises(model.NotAReport, match="not a bluum-readiness report"):
        model.validate({"hello": "world"})


def test_load_report_names_the_problem(tmp_path: Path) -> None:
    with pytest.raises(model.NotAReport, match="no such file"):
        model.load_report(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(model.NotAReport, match="is not JSON"):
        model.load_report(tmp_path / "bad.json")


def test_the_digest_is_sha256_over_the_canonical_json_without_itself(not_ready_json: Path) -> None:
    import hashlib

    document = json.loads(not_ready_json.read_text())
    covered = {k: v for k, v in document.items() if k != "digest"}
    canonical = json.dumps(covered, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert document["digest"]["value"] == hashlib.sha256(canonical).hexdigest() == digest.recompute(document)
    assert model.verify_digest(document)[0]


@pytest.mark.parametrize(
    "tamper",
    [
        lambda d: find_check(d, JITTER)["evidence"]["exchanges"][0].update(status=200),
        lambda d: d.update(verdict="ready"),
        lambda d: find_check(d, JITTER).update(status="passed"),
    ],
    ids=["an-evidence-field", "the-verdict", "a-status"],
)
def test_any_change_breaks_the_digest(not_ready_json: Path, tamper) -> None:  # type: ignore[no-untyped-def]
    document = json.loads(not_ready_json.read_text())
    assert find_check(document, JITTER)["evidence"]["exchanges"]
    tamper(document)
    assert not model.verify_digest(document)[0]


def test_secrets_are_scrubbed_before_the_digest_is_taken(not_ready_json: Path) -> None:
    from tests.report.conftest import SECRET

    text = not_ready_json.read_text()
    assert SECRET not in text and "***" in text
    assert model.verify_digest(json.loads(text))[0]


@pytest.mark.parametrize(
    ("target", "environment"),
    [
        ({"mode": "embedded", "host": "embedded twin"}, "embedded_twin"),
        ({"mode": "remote", "host": "sandbox.api.bluumfinance.com"}, "sandbox"),
        ({"mode": "remote", "host": "api.bluumfinance.com"}, "production"),
        ({"mode": "remote", "host": "127.0.0.1"}, "custom"),
    ],
)
def test_the_environment_comes_from_the_target(target: dict[str, str], environment: str) -> None:
    from bluum_readiness.suite.results import environment_of

    assert environment_of(target) == environment


def test_the_evidence_reference_says_when_a_check_judged_what_an_earlier_one_observed() -> None:
    check = {"id": JITTER, "evidence": {"exchanges": [{}] * 32, "fault_plans": [{}] * 8, "backoff": {},
                                        "shared_observation": {"name": "backoff-trials:429:3"}}}  # fmt: skip
    reference = model.check_reference({}, check)  # type: ignore[arg-type]
    assert reference == (
        f"readiness.json#{JITTER} (32 exchanges, 8 fault plans, backoff, observed once by an earlier check of this "
        "run, judged by this one too)"
    )
    assert model.check_reference({}, {"id": JITTER, "evidence": {}}) == f"readiness.json#{JITTER}"  # type: ignore[arg-type]


def test_a_version_2_record_still_verifies_and_renders_with_its_provenance_derived(
    ready_json: Path, tmp_path: Path
) -> None:
    """Records written before schema version 3 (no phases, provenance, identity or request) stay readable:
    ``report --verify`` verifies them, and the outputs show both phases and where each check ran (its target)."""
    from bluum_readiness.cli.main import main
    from bluum_readiness.report import provenance
    from bluum_readiness.report.render import render_all
    from tests.report.conftest import COMPANY

    document = json.loads(ready_json.read_text())
    document.update(schema_version="2", verdict_line="READY (all 8 items passed)")
    for key in ("phases", "request", "integration_identity"):
        document.pop(key)
    document["target"].pop("url", None)
    for item in document["items"]:
        item.pop("provenance", None)
        for check in item["checks"]:
            check.pop("provenance", None)
    document["digest"]["value"] = digest.recompute(document)
    old = tmp_path / "v2" / "readiness.json"
    old.parent.mkdir()
    old.write_text(json.dumps(document), encoding="utf-8")
    assert main(["report", "--verify", str(old)]) == 0
    loaded = model.load_report(old)
    assert provenance.request(loaded).send_ready is False, "a twin record never proves the sandbox lifecycle"
    render_all(loaded, old.parent, COMPANY)
    markdown = (old.parent / "readiness.md").read_text()
    assert "## Readiness: the five items" in markdown and "## Cut-over: rehearsed" in markdown
    assert "proven against a local emulator of the sandbox, with faults injected" in markdown
    assert (old.parent / "email.txt").read_text().splitlines()[1].startswith("Subject: DRAFT - DO NOT SEND")
