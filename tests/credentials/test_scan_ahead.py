"""The secret scan started ahead (in the background) serves one caller; the next one scans again."""

from __future__ import annotations

from pathlib import Path

from bluum_readiness.config import RunConfig
from bluum_readiness.credentials.scan import prefetch_scan, scan_configured_ahead

PLANTED = 'BLUUM_KEY = "test_bluum_' + "ab" * 32 + '"\n'


def test_a_prefetched_scan_is_taken_once_then_the_folder_is_scanned_again(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("print('hello')\n")
    config = RunConfig(integration="not_importable_here:create")  # nothing of the integration's own to scan
    prefetch_scan(config, tmp_path)
    prefetch_scan(config, tmp_path)  # already pending: no second scan
    first = scan_configured_ahead(config, tmp_path)
    assert first.files_scanned == 1 and not first.findings
    (tmp_path / "client.py").write_text(PLANTED)
    again = scan_configured_ahead(config, tmp_path)
    assert [f.rule for f in again.findings] == ["Bluum sandbox API key"], again.findings


def test_a_scan_error_reaches_the_caller(tmp_path: Path) -> None:
    import pytest

    from bluum_readiness.errors import ConfigError

    config = RunConfig.from_mapping({"scan": {"paths": ["missing-folder"]}})
    prefetch_scan(config, tmp_path)
    with pytest.raises(ConfigError, match="does not exist"):
        scan_configured_ahead(config, tmp_path)
