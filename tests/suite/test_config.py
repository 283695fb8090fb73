"""Configuration: discovery, precedence, and messages that name the key and the fix."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bluum_readiness.config import RunConfig, load_config
from bluum_readiness.errors import ConfigError


def _load(tmp_path: Path, text: str) -> RunConfig:
    (tmp_path / "bluum-readiness.toml").write_text(text)
    return load_config(cwd=tmp_path)


def test_defaults_without_a_file(tmp_path: Path) -> None:
    config = load_config(cwd=tmp_path)
    assert config.embedded and config.integration == "bluum_readiness.reference:create_fast"
    assert config.only == () and config.workers == 0 and config.out == "readiness-out"
    assert config.effective_rate_limit is None


def test_a_full_file_is_read_and_flags_override_it(tmp_path: Path) -> None:
    config = _load(
        tmp_path,
        'target = "https://sandbox.api.bluumfinance.com/v1"\nintegration = "a.b:create"\nonly = ["idempotency"]\n'
        'workers = "auto"\nout = "o"\nseed = 7\n[credentials]\nsource = "command"\ncommand = "echo s3cret"\nkey = "k"\n'
        "[thresholds]\nrequest_timeout_s = 2\nmax_attempts = 5\nmax_backoff_s = 10\n"
        '[company]\nname = "Acme"\ndashboard_email = "ops@acme.example"\n',
    )
    assert config.thresholds.request_timeout_s == 2.0 and config.thresholds.max_attempts == 5
    assert config.seed == 7 and config.workers == "auto" and config.company.name == "Acme"
    assert config.effective_rate_limit == 10.0
    assert config.credentials.resolve().secret == "s3cret"
    flagged = config.override(target="embedded", only=["webhooks"], workers="2")
    assert flagged.embedded and flagged.only == ("webhooks",) and flagged.workers == 2
    assert flagged.integration == "a.b:create"


def test_pyproject_table_is_found(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.bluum-readiness]\nonly = ["webhooks"]\n')
    assert load_config(cwd=tmp_path).only == ("webhooks",)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('integation = "a:b"', "unknown key 'integation' in the top level. Did you mean 'integration'?"),
        ("[thresholds]\nmax_atempts = 3", "unknown key 'max_atempts' in [thresholds]. Did you mean 'max_attempts'?"),
        ("[thresholds]\nmax_attempts = 'x'", "thresholds.max_attempts must be a whole number, e.g. max_attempts = 8"),
        ('workers = "two"', 'workers must be a whole number >= 0 or "auto"'),
        ('only = ["idempotncy"]', "Did you mean 'idempotency'?"),
        ('target = "embeded"', "Did you mean 'embedded'?"),
        ('integration = "nocolon"', "must be MODULE:FACTORY"),
        ('[credentials]\nsource = "vault"', 'credentials.source \'vault\' is not one of "env", "file", "command"'),
        ('[credentials]\nsource = "file"', "needs credentials.path"),
        ("[company]\nname = 3", "company.name must be a string"),
        ("[company]\ndashboard_email = 'nope'", "is not an email address"),
        ("target = ", "is not valid TOML"),
    ],
)
def test_errors_name_the_key_and_the_fix(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, text)
    assert message in str(caught.value)
    assert "bluum-readiness.toml" in str(caught.value)


def test_a_secret_file_must_be_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = tmp_path / "secret"
    secret.write_text("s3cret-value\n")
    os.chmod(secret, 0o644)
    monkeypatch.setenv("BLUUM_API_KEY", "key-1")
    config = _load(tmp_path, f'[credentials]\nsource = "file"\npath = "{secret}"\n')
    with pytest.raises(ConfigError, match="chmod 600"):
        config.credentials.resolve()
    os.chmod(secret, 0o600)
    pair = config.credentials.resolve()
    assert (pair.key, pair.secret) == ("key-1", "s3cret-value")


def test_env_credentials_missing_says_what_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BLUUM_API_KEY", raising=False)
    monkeypatch.delenv("BLUUM_API_SECRET", raising=False)
    with pytest.raises(ConfigError, match="set BLUUM_API_KEY and BLUUM_API_SECRET"):
        RunConfig().credentials.resolve()


def test_a_missing_config_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "nope.toml")
