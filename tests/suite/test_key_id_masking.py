"""Key ids are masked in every output (they are half a pair, and exactly what secret scanners flag): a report
left in a project folder must not fail the next run's secret scan."""

from __future__ import annotations

import json
from pathlib import Path

from bluum_readiness.credentials.scan import scan
from bluum_readiness.redaction import mask_key_ids, scrub

KEY = "test_bluum_" + "d335e1" + "0" * 54 + "019b"


def test_a_key_id_keeps_its_prefix_and_ends_only() -> None:
    assert mask_key_ids(f"key {KEY}.") == "key test_bluum_d335e1\u2026019b."
    assert mask_key_ids("test_bluum_short") == "test_bluum_short"
    assert scrub(json.dumps({"k": KEY, "s": "a-secret-value"}), ["a-secret-value"]) == (
        '{"k": "test_bluum_d335e1\u2026019b", "s": "***"}'
    )


def test_a_scrubbed_report_does_not_trip_the_secret_scan(tmp_path: Path) -> None:
    evidence = json.dumps({"auth_key_id": KEY, "request_headers": [["authorization", f"Basic {KEY}:***"]]})
    (tmp_path / "readiness.json").write_text(scrub(evidence, []))
    assert not scan(["."], cwd=tmp_path).findings
    (tmp_path / "raw.json").write_text(evidence)  # the unmasked form is flagged: the masking is what helps
    assert [f.file for f in scan(["."], cwd=tmp_path).findings] == ["raw.json"]


def test_folders_a_run_wrote_are_not_scanned(tmp_path: Path) -> None:
    out = tmp_path / "reports" / "2026-11-25"
    out.mkdir(parents=True)
    (out / "pytest.log").write_text("log\n")
    (out / "readiness.json").write_text(json.dumps({"auth_key_id": KEY}))
    assert scan(["."], cwd=tmp_path).files_scanned == 0
    (out / "pytest.log").unlink()  # not a run's folder any more: scanned, and the raw key id is found
    assert scan(["."], cwd=tmp_path).findings
