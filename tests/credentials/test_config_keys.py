"""The [scan] section and the credentials keys the credentials item reads: defaults, values, one-line errors."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from bluum_readiness.config import RunConfig, ScanConfig, load_config
from bluum_readiness.errors import ConfigError


def load(tmp_path: Path, text: str) -> RunConfig:
    (tmp_path / "bluum-readiness.toml").write_text(text)
    return load_config(cwd=tmp_path)


def test_defaults() -> None:
    config = RunConfig()
    assert config.scan == ScanConfig(paths=(".",), exclude=(), baseline=None, max_file_kb=1024, include_ignored=False)
    assert (config.scan.history, config.scan.history_depth, config.scan.history_max_mb) == (True, 1000, 32)
    assert config.credentials.rotation_period_days == 90
    assert config.source_file is None


def test_scan_values(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        '[scan]\npaths = ["src", "config"]\nexclude = "fixtures/**"\nbaseline = "b.json"\nmax_file_kb = 64\n'
        "include_ignored = true\nhistory = false\nhistory_depth = 50\nhistory_max_mb = 4\n"
        "[credentials]\nrotation_period_days = 30\n",
    )
    assert config.scan == ScanConfig(("src", "config"), ("fixtures/**",), "b.json", 64, True, False, 50, 4)
    assert config.credentials.rotation_period_days == 30
    assert config.source_file == tmp_path / "bluum-readiness.toml"


def test_source_file_of_a_pyproject_table(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.bluum-readiness.scan]\npaths = ["app"]\n')
    config = load_config(cwd=tmp_path)
    assert config.scan.paths == ("app",)
    assert config.source_file == tmp_path / "pyproject.toml"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[scan]\npath = ['src']", "unknown key 'path' in [scan]. Did you mean 'paths'?"),
        ("[scan]\npaths = []", "scan.paths is empty"),
        ("[scan]\npaths = [1]", "scan.paths must be a list of strings"),
        ("[scan]\nexclude = 3", "scan.exclude must be a list of strings"),
        ("[scan]\nmax_file_kb = 0", "scan.max_file_kb must be >= 1"),
        ("[scan]\nmax_file_kb = 1.5", "scan.max_file_kb must be a whole number"),
        ("[scan]\ninclude_ignored = 'yes'", "scan.include_ignored must be true or false"),
        ("scan = 1", "scan must be a table"),
        ("[scan]\nhistroy = false", "unknown key 'histroy' in [scan]. Did you mean 'history'?"),
        ("[scan]\nhistory_dept = 10", "unknown key 'history_dept' in [scan]. Did you mean 'history_depth'?"),
        ("[scan]\nhistory = 'no'", "scan.history must be true or false"),
        ("[scan]\nhistory_depth = 0", "scan.history_depth must be >= 1"),
        ("[scan]\nhistory_depth = '100'", "scan.history_depth must be a whole number of commits"),
        ("[scan]\nhistory_max_mb = -1", "scan.history_max_mb must be >= 1"),
        ("[scan]\nhistory_max_mb = true", "scan.history_max_mb must be a whole number of megabytes"),
    ],
)
def test_scan_errors_name_the_key_and_the_fix(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")) as error:
        load(tmp_path, text)
    assert "bluum-readiness.toml" in str(error.value)


@pytest.mark.parametrize(
    ("value", "declared"),
    [
        ("2026-10-01", datetime.date(2026, 10, 1)),
        ('"2026-10-01"', datetime.date(2026, 10, 1)),
        ("2026-10-01T09:30:00Z", datetime.date(2026, 10, 1)),
    ],
)
def test_key_created_is_a_day_as_a_toml_date_or_a_string(tmp_path: Path, value: str, declared: datetime.date) -> None:
    assert load(tmp_path, f"[credentials]\nkey_created = {value}\n").credentials.key_created == declared


@pytest.mark.parametrize(
    ("value", "message"),
    [('"01/10/2026"', "is not a date"), ("20261001", "must be a date"), ("2999-01-01", "is in the future")],
)
def test_key_created_that_is_no_past_day_is_refused_with_an_example(tmp_path: Path, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as refused:
        load(tmp_path, f"[credentials]\nkey_created = {value}\n")
    assert 'key_created = "2026-10-01"' in str(refused.value)
