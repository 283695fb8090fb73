"""The scan covers the integration's own code wherever it lives: a Python adapter's module or package, the files an
``exec:`` command names; with nothing at all to scan the check is not verifiable, never passed."""

from __future__ import annotations

import contextlib
import secrets
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import bluum_readiness.reference
from bluum_readiness.checks import registry
from bluum_readiness.config import RunConfig
from bluum_readiness.credentials.scan import integration_sources, scan_configured
from bluum_readiness.failures import NotVerifiable
from bluum_readiness.suite.session import SuiteSession
from tests.credentials.gitrepo import Repo


def test_a_python_adapter_is_its_module_or_package(tmp_path: Path) -> None:
    assert integration_sources("bluum_readiness.reference:create_fast", tmp_path) == [
        Path(bluum_readiness.reference.__file__).parent
    ]
    assert integration_sources("bluum_readiness.integration:load_factory", tmp_path) == [
        Path(sys.modules["bluum_readiness.integration"].__file__ or "")
    ]
    assert integration_sources("no_such_module_anywhere:create", tmp_path) == []


def test_an_exec_integration_is_the_files_its_command_names(tmp_path: Path) -> None:
    (tmp_path / "adapter.mjs").write_text("// adapter\n")
    assert integration_sources("exec:node adapter.mjs --verbose missing.mjs", tmp_path) == [tmp_path / "adapter.mjs"]


def test_a_secret_in_an_exec_adapter_outside_the_scanned_folder_is_found(tmp_path: Path) -> None:
    elsewhere = tmp_path / "team-repo"
    elsewhere.mkdir()
    key = f"test_bluum_{secrets.token_hex(32)}"
    (elsewhere / "adapter.mjs").write_text(f'const KEY = "{key}";\n')
    scanned = tmp_path / "empty"
    scanned.mkdir()
    config = RunConfig().override(integration=f"exec:node {elsewhere / 'adapter.mjs'}")
    result = scan_configured(config, cwd=scanned)
    assert [(f.file.endswith("adapter.mjs"), f.line, f.rule) for f in result.findings] == [
        (True, 1, "Bluum sandbox API key")
    ]


@contextlib.contextmanager
def _judged_with_no_adapter_code() -> Iterator[SuiteSession]:
    """A session whose integration's code is nowhere to be found: the scan covers the current folder alone."""
    session = SuiteSession.embedded()
    try:
        session.config = RunConfig().override(integration="exec:node no-such-adapter.mjs")
        yield session
    finally:
        session.close()


def test_nothing_at_all_to_scan_is_not_verifiable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with _judged_with_no_adapter_code() as session:
        with pytest.raises(NotVerifiable, match=r"found no files to scan in \. \(0 bytes scanned\)"):
            session.run(registry.get("credentials.no-secrets-in-code"))


def test_only_empty_files_is_a_scan_of_nothing_even_with_a_history(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = Repo(tmp_path)
    repo.commit("init", {"app/__init__.py": "", "app/old.py": "x = 1\n"})
    repo.commit("emptied", {"app/old.py": ""})
    monkeypatch.chdir(tmp_path)
    with _judged_with_no_adapter_code() as session:
        with pytest.raises(NotVerifiable, match=r"found only 2 empty files to scan in \. \(0 bytes scanned\)"):
            session.run(registry.get("credentials.no-secrets-in-code"))
        assert scan_configured(session.config, cwd=tmp_path).history.added_lines == 1  # the history was scanned
