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


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "+inf", "0", "-1.5", "1e309", "86401", "1e16"])
@pytest.mark.parametrize("key", ["request_timeout_s", "max_backoff_s", "settle_timeout_s", "alert_timeout_s"])
def test_seconds_must_be_finite_positive_and_bounded(tmp_path: Path, key: str, value: str) -> None:
    """nan and inf used to pass (nan > 0 is False, so `<= 0` let it through) and the checks then blamed the
    integration for a timeout the suite itself set."""
    with pytest.raises(ConfigError, match=rf"thresholds\.{key} must be a finite number of seconds > 0"):
        _load(tmp_path, f"[thresholds]\n{key} = {value}\n")


def test_a_webhook_threshold_in_webhooks_is_held_to_the_same_rule(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="webhook_tolerance_s must be a finite number"):
        _load(tmp_path, "[webhooks]\ntolerance_s = inf\n")


@pytest.mark.parametrize("value", ["nan", "inf", "0", "-3", "1e7", "100000000000000000000"])
def test_the_rate_limit_must_be_finite_and_positive(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigError, match="rate_limit_per_s must be a finite number of requests per second"):
        _load(tmp_path, f"rate_limit_per_s = {value}\n")
    with pytest.raises(ConfigError, match="rate_limit_per_s must be a finite number"):
        RunConfig().override(rate_limit_per_s=float(value))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[thresholds]\nbackoff_trials = 99999999999\n", "between 1 and 10,000"),
        ("[thresholds]\nmax_attempts = 0\n", "between 1 and 10,000"),
        ("seed = -1\n", "seed must be a whole number from 0"),
        ("seed = 99999999999999999999999999999999999999\n", "a 38-digit number"),
        ("[scan]\nhistory_depth = 99999999999999\n", "scan.history_depth must be at most"),
    ],
)
def test_whole_numbers_are_bounded(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        _load(tmp_path, text)


def test_a_config_that_is_not_utf8_is_one_line_naming_the_line(tmp_path: Path) -> None:
    (tmp_path / "bluum-readiness.toml").write_bytes(b'target = "embedded"\nout = "\xff\xfe"\n')
    with pytest.raises(ConfigError, match=r"is not UTF-8 text \(byte 0xff on line 2\)"):
        load_config(cwd=tmp_path)


def test_a_config_saved_with_a_byte_order_mark_and_windows_line_ends_is_read(tmp_path: Path) -> None:
    """Notepad's and PowerShell's UTF-8: a byte order mark first and CRLF line ends. Before: "is not valid TOML
    (Invalid statement (at line 1, column 1))" for a file that looks right in every editor."""
    (tmp_path / "bluum-readiness.toml").write_bytes(b'\xef\xbb\xbf[company]\r\nname = "Acme Invest"\r\n')
    assert load_config(cwd=tmp_path).company.name == "Acme Invest"


@pytest.mark.parametrize(
    "text",
    [
        "a = " + "{b = " * 2000 + "1" + "}" * 2000,
        "a = " + "[" * 2000 + "]" * 2000,
    ],
    ids=["inline tables", "arrays"],
)
def test_a_config_nested_thousands_deep_is_one_line(tmp_path: Path, text: str) -> None:
    with pytest.raises(ConfigError, match="nests tables or arrays too deeply"):
        _load(tmp_path, text + "\n")


def test_a_huge_integer_in_the_config_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot be read"):
        _load(tmp_path, "seed = " + "9" * 5000 + "\n")


@pytest.mark.parametrize("text", ["tool = 1\n", 'tool = "x"\n', "[tool]\nbluum-readiness = 3\n"])
def test_a_pyproject_whose_tool_is_not_a_table_is_no_traceback(tmp_path: Path, text: str) -> None:
    (tmp_path / "pyproject.toml").write_text(text)
    try:
        config = load_config(cwd=tmp_path)
    except ConfigError as exc:
        assert "must be a TOML table" in str(exc)
    else:
        assert config == RunConfig()
    try:
        load_config(tmp_path / "pyproject.toml")
    except ConfigError as exc:
        assert "[tool.bluum-readiness]" in str(exc) or "must be a TOML table" in str(exc)


def test_a_config_path_too_long_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="File name too long"):
        load_config(tmp_path / ("c" * 300))


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('out = "a\\u0000b"', "out"),
        ('integration = "exec:node a\\u0000.mjs"', "integration"),
        ('target = "https://x\\u0000/v1"', "target"),
        ('[credentials]\nsource = "file"\npath = "s\\u0000"\nkey = "k"', "credentials.path"),
        ('[credentials]\nsource = "command"\ncommand = ["op", "read\\u0000"]\nkey = "k"', r"credentials.command\[1\]"),
        ('[webhooks]\nurl = "https://h.example/b"\nsecret_file = "s\\u001b"', "webhooks.secret_file"),
        ('[scan]\npaths = ["src", "a\\u0000"]', r"scan.paths\[1\]"),
        ('[company]\nname = "Acme\\u0000"', "company.name"),
    ],
)
def test_a_control_character_in_a_setting_is_named(tmp_path: Path, text: str, where: str) -> None:
    """TOML lets "\\u0000" be written; the system then refused the path or command with a bare ValueError."""
    with pytest.raises(ConfigError, match=rf"{where} holds the control character U\+00"):
        _load(tmp_path, text + "\n")


def test_company_texts_may_span_lines(tmp_path: Path) -> None:
    config = _load(tmp_path, '[company]\nproduct_description = """Robo-advisor\nfor retail investors"""\n')
    assert config.company.product_description == "Robo-advisor\nfor retail investors"


@pytest.mark.parametrize("section", ["credentials", "webhooks"])
@pytest.mark.parametrize("name", ["", "A=B"])
def test_an_environment_variable_name_must_be_one(tmp_path: Path, section: str, name: str) -> None:
    text = (
        f'[credentials]\nsecret_env = "{name}"\n'
        if section == "credentials"
        else f'[webhooks]\nurl = "https://h.example/b"\nsecret_env = "{name}"\n'
    )
    with pytest.raises(ConfigError, match=rf"{section}.secret_env '{name}' is not an environment variable name"):
        _load(tmp_path, text)


@pytest.mark.parametrize(
    ("target", "why"),
    [
        ("http://[::1/v1", "Invalid IPv6 URL"),
        ("http://localhost:99999/v1", "Port out of range"),
        ("http://localhost:port/v1", "Port could not be cast"),
        ("http://bad host/v1", "holds a space"),
    ],
)
def test_a_target_that_is_not_a_url_is_one_line(target: str, why: str) -> None:
    with pytest.raises(ConfigError, match=why):
        RunConfig().override(target=target)


def test_a_secret_command_whose_detached_child_holds_its_output_does_not_hang() -> None:
    """A credential command that leaves a process in a session of its own holding stdout (an agent it starts) made
    the run wait until that process exited (here 8 s; a real agent: forever, then 30 s and a wrong message)."""
    import sys
    import time

    from bluum_readiness.config import read_secret_command

    code = (
        "import subprocess, sys; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(8)'], "
        "start_new_session=True); print('s3cret-from-the-manager')"
    )
    started = time.monotonic()
    assert read_secret_command((sys.executable, "-c", code), "credentials.command") == "s3cret-from-the-manager"
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("kind", ["fifo", "folder", "not utf-8"])
def test_a_secret_file_that_is_not_a_readable_file_is_one_line(tmp_path: Path, kind: str) -> None:
    """A FIFO blocked the run forever (reading waits for a writer); a folder and binary content were tracebacks."""
    from bluum_readiness.config import read_secret_file

    path = tmp_path / "secret"
    if kind == "fifo":
        os.mkfifo(path, 0o600)
    elif kind == "folder":
        path.mkdir(mode=0o700)
    else:
        path.write_bytes(b"\xff\xfe secret")
        path.chmod(0o600)
    with pytest.raises(ConfigError, match="is not a regular file|cannot be read"):
        read_secret_file(str(path), "credentials.path", "the API secret")


def test_a_secret_file_written_by_powershell_holds_the_secret_alone(tmp_path: Path) -> None:
    """``Set-Content -Encoding UTF8``: a byte order mark first, CRLF last. The mark was kept as part of the secret,
    and the pair was refused with 401 as if the secret were wrong."""
    from bluum_readiness.config import read_secret_file

    path = tmp_path / "secret"
    path.write_bytes(b"\xef\xbb\xbfs3cret-from-the-manager\r\n")
    path.chmod(0o600)
    assert read_secret_file(str(path), "credentials.path", "the API secret") == "s3cret-from-the-manager"


def test_a_secret_command_is_read_however_its_exit_and_end_of_output_race() -> None:
    """Its output ends a moment before its exit is seen: that is a finished command, not a timeout."""
    import sys

    from bluum_readiness.config import read_secret_command

    for _ in range(10):
        assert read_secret_command((sys.executable, "-c", "print('s3cret-value')"), "credentials.command") == (
            "s3cret-value"
        )


@pytest.mark.parametrize(
    ("only", "items"),
    [
        ('"IDEMPOTENCY"', ("idempotency",)),
        ('"idempotency, webhooks,"', ("idempotency", "webhooks")),
        ('["smoke-test,credentials", "Credentials"]', ("smoke-test", "credentials")),
    ],
)
def test_only_takes_items_comma_separated_in_any_case(tmp_path: Path, only: str, items: tuple[str, ...]) -> None:
    """What `--only idempotency,webhooks` and `--only Idempotency` mean to a user: before, "unknown checklist item"."""
    assert _load(tmp_path, f"only = {only}\n").only == items


@pytest.mark.parametrize(
    ("only", "message"),
    [
        ('"credentials.key-age"', "'credentials.key-age' is a check; checks run by item: only 'credentials' runs it"),
        ('","', "only names no checklist item"),
        ('"idempotncy"', "unknown checklist item 'idempotncy'. Did you mean 'idempotency'?"),
    ],
)
def test_only_that_names_no_item_says_what_would(tmp_path: Path, only: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        _load(tmp_path, f"only = {only}\n")
