"""The secret scan's per-file cache: an unchanged file is not scanned again; any change to it misses; a broken or
disabled cache just means scanning; entries never hold a secret."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bluum_readiness.credentials.scan import scan
from bluum_readiness.credentials.scan_cache import ENV_VAR, ScanCache

KEY = "test_bluum_" + "5e" * 32
PLANTED = f'BLUUM_KEY = "{KEY}"\n'


@pytest.fixture
def scans(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files detect-secrets really scans."""
    from bluum_readiness.credentials.scan import _DetectSecrets

    seen: list[str] = []
    real = _DetectSecrets.scan_files

    def counting(self: _DetectSecrets, paths: list[Path]) -> Any:
        seen.extend(sorted(Path(path).name for path in paths))
        return real(self, paths)

    monkeypatch.setattr(_DetectSecrets, "scan_files", counting)
    return seen


def test_an_unchanged_file_is_not_scanned_again(tmp_path: Path, scans: list[str]) -> None:
    project, cache = tmp_path / "project", ScanCache(tmp_path / "cache")
    project.mkdir()
    (project / "client.py").write_text(PLANTED)
    (project / "clean.py").write_text("print('hello')\n")
    first = scan(["."], cwd=project, cache=cache)
    again = scan(["."], cwd=project, cache=cache)
    assert sorted(scans) == ["clean.py", "client.py"]  # the second scan came from the cache
    assert (again.files_scanned, again.lines_scanned, again.bytes_scanned) == (2, 2, len(PLANTED) + 15)
    assert (first.files_scanned, first.lines_scanned, first.bytes_scanned) == (2, 2, len(PLANTED) + 15)
    assert (
        [str(f) for f in first.findings] == [str(f) for f in again.findings] == ["client.py:1: Bluum sandbox API key"]
    )
    stored = "".join(p.read_text() for p in (tmp_path / "cache").rglob("*.json"))
    assert KEY not in stored and "5e5e5e5e" not in stored


def test_a_change_to_the_file_or_its_name_misses(tmp_path: Path, scans: list[str]) -> None:
    cache = ScanCache(tmp_path / "cache")
    (tmp_path / "a.py").write_text("x = 1\n")
    scan(["a.py"], cwd=tmp_path, cache=cache)
    (tmp_path / "a.py").write_text("x = 1\n" + PLANTED)
    assert scan(["a.py"], cwd=tmp_path, cache=cache).findings
    (tmp_path / "a.py").rename(tmp_path / "a.txt")
    scan(["a.txt"], cwd=tmp_path, cache=cache)
    assert scans == ["a.py", "a.py", "a.txt"]


def test_a_corrupt_or_disabled_cache_means_scanning(
    tmp_path: Path, scans: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "cache"
    (tmp_path / "client.py").write_text(PLANTED)
    scan(["client.py"], cwd=tmp_path, cache=ScanCache(folder))
    for entry in folder.rglob("*.json"):
        entry.write_text("{not json")
    assert scan(["client.py"], cwd=tmp_path, cache=ScanCache(folder)).findings
    monkeypatch.setenv(ENV_VAR, "off")
    assert ScanCache.default().folder is None
    assert scan(["client.py"], cwd=tmp_path).findings
    assert scans == ["client.py"] * 3


def test_the_default_location_follows_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert ScanCache.default().folder == tmp_path / "bluum-readiness" / "scan"
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "mine"))
    assert ScanCache.default().folder == tmp_path / "mine"
