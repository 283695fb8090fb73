"""The secret scan started ahead (in the background) serves one caller; the next one scans again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

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

    from bluum_readiness.errors import ConfigError

    config = RunConfig.from_mapping({"scan": {"paths": ["missing-folder"]}})
    prefetch_scan(config, tmp_path)
    with pytest.raises(ConfigError, match="does not exist"):
        scan_configured_ahead(config, tmp_path)


def test_the_scan_ahead_never_copies_the_environment_another_thread_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pytest sets and deletes ``PYTEST_CURRENT_TEST`` in the main thread at every check; a background scan that
    copied ``os.environ`` at that moment raised "dictionary changed size during iteration" (issue 24's intermittent
    harness error). The scan's git commands take a copy made by the thread that started the scan."""
    import os
    import threading

    from tests.credentials.gitrepo import Repo

    repo = Repo(tmp_path / "repo")
    repo.commit("first", {"app.py": "print('hello')\n"})
    repo.commit("second", {"client.py": PLANTED})
    iterated_by: list[str] = []
    original = os._Environ.__iter__

    def recording(self: os._Environ[str]) -> Iterator[str]:
        iterated_by.append(threading.current_thread().name)
        return original(self)

    monkeypatch.setattr(os._Environ, "__iter__", recording)
    config = RunConfig(integration="not_importable_here:create")
    prefetch_scan(config, repo.root)
    result = scan_configured_ahead(config, repo.root)
    assert result.history.status == "scanned" and result.history.commits == 2, result.history
    assert "secret-scan-ahead" not in iterated_by, iterated_by
