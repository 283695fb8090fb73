"""Run configuration: ``bluum-readiness.toml``, ``[tool.bluum-readiness]`` in pyproject.toml, or ``--config FILE``.

One frozen dataclass per section, each built by ``from_mapping`` that names a bad key, says what is valid and
suggests the closest match. CLI flags override the file (``RunConfig.override``). Credentials never come from
the file itself, only a *source* of them (the environment, a 0600 file, or a command printing the secret)::

    target = "embedded"                       # or the API base URL, e.g. https://sandbox.api.bluumfinance.com/v1
    integration = "bluum_adapter:create"      # MODULE:FACTORY
    only = ["idempotency"]                    # checklist item ids; empty: all
    workers = 2                               # or "auto"; 0/absent: one process
    out = "readiness-out"
    [credentials]
    source = "env"                            # env | file | command | aws
    [scan]
    paths = ["."]                             # where the secret scan looks (default: the current directory)
    history_depth = 1000                      # and how many commits of its git history (history = false: none)
    [thresholds]
    request_timeout_s = 0.5
    [company]
    name = "Acme Invest"

See docs/configuration.md for every key.
"""

from __future__ import annotations

import dataclasses
import datetime
import difflib
import math
import os
import select
import shlex
import stat
import subprocess
import time
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bluum_readiness.catalog import item as checklist_item
from bluum_readiness.catalog import items as checklist_items
from bluum_readiness.errors import ConfigError
from bluum_readiness.integration import Credentials
from bluum_readiness.target import EMBEDDED, parse_target
from bluum_readiness.target import EXAMPLE as EXAMPLE_TARGET

__all__ = [
    "CONFIG_FILE",
    "AlertsConfig",
    "DEFAULT_INTEGRATION",
    "CompanyConfig",
    "Thresholds",
    "CredentialsConfig",
    "RunConfig",
    "ScanConfig",
    "WebhooksConfig",
    "find_config",
    "load_config",
]

CONFIG_FILE = "bluum-readiness.toml"
PYPROJECT_TABLE = "tool.bluum-readiness"
DEFAULT_INTEGRATION = "bluum_readiness.reference:create_fast"
DEFAULT_OUT = "readiness-out"
SANDBOX_RATE_LIMIT = 10.0  # requests/s per key pair: the real sandbox's documented limit
MAX_RATE = 1_000_000.0  # requests/s: above this a limit limits nothing (leave it out instead)


def _unknown_key(key: str, section: str, valid: list[str]) -> ConfigError:
    close = difflib.get_close_matches(key, valid, n=1)
    hint = f"Did you mean {close[0]!r}?" if close else f"Valid keys: {', '.join(sorted(valid))}."
    return ConfigError(f"unknown key {key!r} in {section}. {hint} Remove it or fix its spelling")


def _check_keys(values: Mapping[str, Any], section: str, valid: list[str]) -> None:
    for key in values:
        if key not in valid:
            raise _unknown_key(key, section, valid)


def _expect(value: Any, kind: type | tuple[type, ...], key: str, example: str) -> Any:
    bad_bool = isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,))
    if not isinstance(value, kind) or bad_bool:
        raise ConfigError(f"{key} must be {example} (got {value!r}); fix it in the config file")
    return value


def _optional_str(values: Mapping[str, Any], key: str, section: str) -> str | None:
    value = values.get(key)
    if value is None:
        return None
    return str(_expect(value, str, f"{section}.{key}", 'a string, e.g. "…"'))


@dataclass(frozen=True)
class CredentialsConfig:
    """Where the API key pair comes from (never the config file itself).

    :param source: ``env`` (``key_env``/``secret_env``), ``file`` (``path`` holds the secret, mode 0600) or
        ``command`` (``command`` prints the secret on stdout, e.g. a secret-manager CLI).
    :param key: the key id for ``file``/``command``/``aws`` (not secret); default: ``$BLUUM_API_KEY``.
    :param secret_id, region, endpoint_url: for ``aws`` (AWS Secrets Manager through boto3, the ``aws`` extra):
        the secret's name or ARN, its region (default: the AWS environment), an endpoint override.
    :param rotation_period_days: the current key must be younger than this (``credentials.key-age``).
    :param key_created: the day the team's key pair was created, as Bluum's dashboard shows it (a TOML date or
        ``"YYYY-MM-DD"``). Bluum's API does not expose it, so ``credentials.key-age`` judges the team's own pair on
        this declaration, shown as declared (provenance ``declared``), never as observed.
    """

    source: str = "env"
    key: str | None = None
    key_env: str = "BLUUM_API_KEY"
    secret_env: str = "BLUUM_API_SECRET"
    path: str | None = None
    command: tuple[str, ...] = ()
    secret_id: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    rotation_period_days: int = 90
    key_created: datetime.date | None = None

    SOURCES = ("env", "file", "command", "aws")

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> CredentialsConfig:
        if "secret" in values:
            raise ConfigError(
                "credentials.secret: never put a secret in the config file; "
                'use source = "env", "file", "command" or "aws"'
            )
        _check_keys(
            values,
            "[credentials]",
            [
                *("source", "key", "key_env", "secret_env", "path", "command"),
                *("secret_id", "region", "endpoint_url", "rotation_period_days", "key_created"),
            ],
        )
        source = _expect(values.get("source", "env"), str, "credentials.source", '"env", "file", "command" or "aws"')
        if source not in cls.SOURCES:
            close = difflib.get_close_matches(source, cls.SOURCES, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ConfigError(f'credentials.source {source!r} is not one of "env", "file", "command", "aws".{hint}')
        command = _command(values.get("command", []), "credentials.command")
        made = cls(
            source=source,
            key=_optional_str(values, "key", "credentials"),
            key_env=_variable_name(values.get("key_env", "BLUUM_API_KEY"), "credentials.key_env"),
            secret_env=_variable_name(values.get("secret_env", "BLUUM_API_SECRET"), "credentials.secret_env"),
            path=_optional_str(values, "path", "credentials"),
            command=command,
            secret_id=_optional_str(values, "secret_id", "credentials"),
            region=_optional_str(values, "region", "credentials"),
            endpoint_url=_optional_str(values, "endpoint_url", "credentials"),
            rotation_period_days=_rotation_period(values.get("rotation_period_days", 90)),
            key_created=_key_created(values.get("key_created")),
        )
        if source == "aws" and not made.secret_id:
            raise ConfigError(
                'credentials.source = "aws" needs credentials.secret_id (the secret\'s name or ARN in AWS Secrets '
                'Manager), e.g. secret_id = "bluum/sandbox"'
            )
        if source == "file" and not made.path:
            raise ConfigError(
                'credentials.source = "file" needs credentials.path (a file holding the secret, mode 0600)'
            )
        if source == "command" and not made.command:
            raise ConfigError(
                'credentials.source = "command" needs credentials.command, e.g. "op read op://bluum/secret"'
            )
        return made

    def configured_in_env(self) -> bool:
        """True when the environment variables of the ``env`` source are both set."""
        return bool(os.environ.get(self.key_env) and os.environ.get(self.secret_env))

    def available(self) -> bool:
        """Whether to use credentials where they are optional (embedded mode, which then seeds the twin):
        a ``file``/``command``/``aws`` source, or an ``env`` source whose variables are set."""
        return self.source != "env" or self.configured_in_env()

    def resolve(self) -> Credentials:
        """Read the pair now (a ConfigError says what is missing and how to provide it)."""
        if self.source == "env":
            key, secret = os.environ.get(self.key_env), os.environ.get(self.secret_env)
            if not key or not secret:
                raise ConfigError(
                    f"set {self.key_env} and {self.secret_env} (from your secret manager), or configure "
                    '[credentials] source = "file" or "command"; credentials are never taken from the command line'
                )
            return Credentials(key, secret)
        if self.source == "aws":
            return self._aws_pair()
        key = self.key or os.environ.get(self.key_env)
        if not key:
            raise ConfigError(
                f"set credentials.key (the key id, not secret) or {self.key_env} for the {self.source} source"
            )
        secret = self._file_secret() if self.source == "file" else self._command_secret()
        return Credentials(key, secret)

    def _aws_pair(self) -> Credentials:
        from bluum_readiness.credentials.sources import read_aws_secret

        assert self.secret_id is not None
        found = read_aws_secret(self.secret_id, region=self.region, endpoint_url=self.endpoint_url)
        key = self.key or found.key or os.environ.get(self.key_env)
        if not key:
            raise ConfigError(
                f'credentials.source = "aws": the secret {self.secret_id!r} holds no "key" field; set '
                f"credentials.key (the key id, not secret) or {self.key_env}"
            )
        return Credentials(key, found.secret)

    def _file_secret(self) -> str:
        assert self.path is not None
        return read_secret_file(self.path, "credentials.path", "the API secret")

    def _command_secret(self) -> str:
        return read_secret_command(self.command, "credentials.command")


def read_secret_file(path_text: str, setting: str, what: str) -> str:
    """The secret held in ``path_text`` (stripped); ConfigError if unreadable, empty, or readable by others."""
    path = Path(path_text).expanduser()
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise ConfigError(f"{setting} {path_text!r} cannot be read ({exc.strerror}); fix the path") from None
    if not stat.S_ISREG(mode):  # a folder, a FIFO (reading one waits for a writer), a device
        raise ConfigError(f"{setting} {path_text!r} is not a regular file; give the path of the file holding {what}")
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"{setting} {path_text!r} is readable by others (mode {stat.S_IMODE(mode):o}); run `chmod 600 {path_text}`"
        )
    try:
        secret = path.read_text(encoding="utf-8-sig").strip()  # a byte order mark (PowerShell's UTF-8) is no part
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else "it is not UTF-8 text"
        raise ConfigError(f"{setting} {path_text!r} cannot be read ({why}); fix the file") from None
    if not secret:
        raise ConfigError(f"{setting} {path_text!r} is empty; it must hold {what}")
    return secret


SECRET_COMMAND_TIMEOUT_S = 30.0
EXIT_GRACE_S = 0.5  # once the command exited: how long its output may take to end (a child it left may hold it)


def read_secret_command(command: tuple[str, ...], setting: str) -> str:
    """What ``command`` prints on stdout (stripped): e.g. a secret-manager CLI. ConfigError if it fails, prints
    nothing, or does not exit within ``SECRET_COMMAND_TIMEOUT_S``. Once it has exited, its output is read for at most
    ``EXIT_GRACE_S`` more: a process it started in a session of its own (a credential agent) that keeps the pipe
    open cannot make the run wait for it."""
    try:
        returncode, stdout = _output_of(command, SECRET_COMMAND_TIMEOUT_S)
    except OSError as exc:
        raise ConfigError(f"{setting} {command[0]!r} could not run ({exc.strerror or exc}); fix the command") from None
    except subprocess.TimeoutExpired:
        raise ConfigError(
            f"{setting} {command[0]!r} did not exit within {SECRET_COMMAND_TIMEOUT_S:g} s; run it yourself to see "
            "whether it waits for input (it gets none)"
        ) from None
    if returncode != 0 or not stdout.strip():
        raise ConfigError(
            f"{setting} {command[0]!r} exited {returncode} without printing a secret; run it yourself to see why"
        )
    return stdout.strip()


def _output_of(command: tuple[str, ...], timeout_s: float) -> tuple[int, str]:
    """(exit status, stdout) of ``command`` run without a shell and without input; stderr is discarded."""
    process = subprocess.Popen(list(command), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL)  # fmt: skip
    assert process.stdout is not None
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout_s
    exited_at: float | None = None
    with process.stdout as stdout:
        while True:
            now = time.monotonic()
            if exited_at is None and process.poll() is not None:
                exited_at = now
            if now >= deadline or (exited_at is not None and now - exited_at >= EXIT_GRACE_S):
                break
            ready, _, _ = select.select([stdout], [], [], 0.05)
            if ready:
                data = os.read(stdout.fileno(), 65536)
                if not data:
                    break
                chunks.append(data)
    try:  # its output ended (it usually exits a moment later) or the grace passed
        returncode = process.wait(timeout=max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise
    return returncode, b"".join(chunks).decode("utf-8", errors="replace")


def _variable_name(value: Any, setting: str) -> str:
    """An environment variable's name: not empty, no ``=`` (the system cannot hold one with either)."""
    name = str(_expect(value, str, setting, 'a variable name, e.g. "BLUUM_API_SECRET"'))
    if not name or "=" in name:
        raise ConfigError(f'{setting} {name!r} is not an environment variable name; e.g. "BLUUM_API_SECRET"')
    return name


def _command(value: Any, setting: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(shlex.split(value))
    if isinstance(value, list) and all(isinstance(part, str) for part in value):
        return tuple(value)
    raise ConfigError(
        f'{setting} must be a string or a list of strings (got {value!r}); e.g. command = "op read op://bluum/secret"'
    )


@dataclass(frozen=True)
class WebhooksConfig:
    """The team's webhook endpoint, when it runs somewhere the suite should reach (``[webhooks]``).

    Without ``url`` the suite tests the receiver the adapter serves itself (``webhook_url``); in twin mode it
    registers it with the twin, which issues the signing secret. With ``url`` the suite sends its signed
    deliveries there, signed with the secret from ``secret_env``, ``secret_file`` (mode 0600) or
    ``secret_command`` (never the config file itself).

    :param url: the https endpoint registered with Bluum.
    :param secret_env: an environment variable holding the endpoint's signing secret (e.g. ``whsec_…``).
    :param secret_file: a file holding it (mode 0600).
    :param secret_command: a command printing it (e.g. a secret-manager CLI).
    :param ca_file: a CA bundle (PEM) to trust for the endpoint's certificate; default: the system store.
    :param used: ``false`` declares that the integration consumes no Bluum webhooks ("If you use webhooks", says the
        checklist): the webhooks item, ``lifecycle.webhook-events`` and the webhook-failure alert are *not
        applicable*. Contradicted by a ``url`` here, or by an integration that exposes ``webhook_url``: a config
        error.
    """

    url: str | None = None
    secret_env: str | None = None
    secret_file: str | None = None
    secret_command: tuple[str, ...] = ()
    ca_file: str | None = None
    used: bool = True

    # keys of [webhooks] that are thresholds of the webhook checks (also accepted in [thresholds] as webhook_*)
    THRESHOLDS = {
        "scheme": "webhook_scheme",
        "tolerance_s": "webhook_tolerance_s",
        "latency_threshold_s": "webhook_latency_threshold_s",
    }

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> WebhooksConfig:
        if "secret" in values:
            raise ConfigError(
                "webhooks.secret: never put a secret in the config file; use secret_env, secret_file or secret_command"
            )
        own = ["url", "secret_env", "secret_file", "secret_command", "ca_file", "used"]
        _check_keys(values, "[webhooks]", [*own, *cls.THRESHOLDS])
        sources = [key for key in ("secret_env", "secret_file", "secret_command") if key in values]
        used = values.get("used", True)
        if not isinstance(used, bool):
            raise ConfigError(
                f"webhooks.used must be true or false, not {used!r} (false: the integration uses no webhooks)"
            )
        if not used and ("url" in values or sources):
            named = "url" if "url" in values else sources[0]
            raise ConfigError(
                f"[webhooks] used = false, but [webhooks] {named} is set: the integration cannot both use no webhooks "
                "and have an endpoint; remove one of them"
            )
        if len(sources) > 1:
            raise ConfigError(f"[webhooks] names {' and '.join(sources)}: keep exactly one source of the secret")
        made = cls(
            url=_optional_str(values, "url", "webhooks"),
            secret_env=_variable_name(values["secret_env"], "webhooks.secret_env") if "secret_env" in values else None,
            secret_file=_optional_str(values, "secret_file", "webhooks"),
            secret_command=_command(values["secret_command"], "webhooks.secret_command")
            if "secret_command" in values
            else (),
            ca_file=_optional_str(values, "ca_file", "webhooks"),
            used=used,
        )
        if made.url is not None:
            if not made.url.startswith(("https://", "http://")):
                raise ConfigError(
                    f"webhooks.url {made.url!r} is not a URL; use the endpoint's https:// URL, e.g. https://hooks.example.com/bluum"
                )
            if not sources:
                raise ConfigError(
                    "webhooks.url is set but not the endpoint's signing secret: add secret_env, secret_file or "
                    'secret_command to [webhooks], e.g. secret_env = "BLUUM_WEBHOOK_SECRET"'
                )
        elif sources:
            raise ConfigError(
                f"[webhooks] {sources[0]} is set without webhooks.url: add the url of the endpoint it belongs to"
            )
        if made.ca_file is not None and not Path(made.ca_file).expanduser().is_file():
            raise ConfigError(f"webhooks.ca_file {made.ca_file!r}: no such file; give the PEM CA bundle's path")
        return made

    @property
    def external(self) -> bool:
        """True when the suite tests an endpoint at a configured URL rather than the adapter's own receiver."""
        return self.url is not None

    def resolve_secret(self) -> str | None:
        """The endpoint's signing secret read from its source now, or None when no endpoint is configured."""
        if self.secret_env is not None:
            secret = os.environ.get(self.secret_env)
            if not secret:
                raise ConfigError(
                    f"set {self.secret_env} to the webhook endpoint's signing secret (webhooks.secret_env), "
                    "e.g. from your secret manager"
                )
            return secret
        if self.secret_file is not None:
            return read_secret_file(self.secret_file, "webhooks.secret_file", "the webhook signing secret")
        if self.secret_command:
            return read_secret_command(self.secret_command, "webhooks.secret_command")
        return None


ALERT_KINDS = ("elevated_5xx", "rate_limited", "stuck_order", "webhook_failure")
LOOPBACK_NAMES = ("localhost", "::1")


@dataclass(frozen=True)
class AlertsConfig:
    """``[alerts]``: the suite listens for the team's alert notifications during the run (docs/alerts.md).

    :param listen: ``HOST:PORT`` the listener binds (loopback only: 127.0.0.1, ::1 or localhost); notifications are
        POSTed to any path there. A fixed port, so the alerting system is configured once.
    :param kinds: for each kind the checks look for (``elevated_5xx``, ``rate_limited``, ``stuck_order``,
        ``webhook_failure``), the team's alert: its name (``elevated_5xx = "AcmeBluumHigh5xx"``, Alertmanager's
        ``alertname``) or label matchers (``stuck_order = { alertname = "AcmeBluumStuckOrder", service = "bluum" }``:
        every label given must have exactly that value).
    :param quiet_s: how long the suite watches normal traffic for a false alarm before it brings on each cause
        (at least your scrape + evaluation interval + group_wait, or a false alarm arrives after the watch).
    :param resolve_timeout_s: how long a check waits for an alert of its kind still firing from earlier in the run
        (the error-handling checks' 5xx and 429s) to resolve before its quiet watch; still firing then is a false
        alarm.
    """

    listen: str = "127.0.0.1:9094"
    kinds: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()
    quiet_s: float = 10.0
    resolve_timeout_s: float = 120.0

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> AlertsConfig:
        _check_keys(values, "[alerts]", ["listen", *ALERT_KINDS, "quiet_s", "resolve_timeout_s"])
        listen = _expect(values.get("listen", cls.listen), str, "alerts.listen", '"127.0.0.1:9094"')
        _loopback_address(listen)
        kinds = tuple((kind, _matchers(values[kind], kind)) for kind in ALERT_KINDS if kind in values)
        return cls(
            listen=listen,
            kinds=kinds,
            quiet_s=_seconds(values.get("quiet_s", cls.quiet_s), "alerts.quiet_s", "quiet_s = 10", most=3600),
            resolve_timeout_s=_seconds(
                values.get("resolve_timeout_s", cls.resolve_timeout_s),
                "alerts.resolve_timeout_s",
                "resolve_timeout_s = 120",
                most=3600,
            ),
        )

    @property
    def host(self) -> str:
        return _loopback_address(self.listen)[0]

    @property
    def port(self) -> int:
        return _loopback_address(self.listen)[1]

    @property
    def matchers(self) -> dict[str, dict[str, str]]:
        """Each mapped kind's label matchers (``alertname`` for an alert given by name)."""
        return {kind: dict(pairs) for kind, pairs in self.kinds}

    def expected(self, kind: str) -> str | None:
        """How a finding names the alert mapped to ``kind``: its name, with its other matchers as Prometheus writes
        them (``AcmeBluumStuckOrder{service="bluum"}``); None when unmapped."""
        matchers = self.matchers.get(kind)
        if not matchers:
            return None
        others = ", ".join(f'{k}="{v}"' for k, v in matchers.items() if k != "alertname")
        return matchers.get("alertname", "") + (f"{{{others}}}" if others else "")


def _loopback_address(listen: str) -> tuple[str, int]:
    """(host, port) of an ``[alerts] listen`` value; ConfigError unless it is a loopback host and a port."""
    host, sep, port_text = listen.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    example = 'e.g. listen = "127.0.0.1:9094"'
    if not sep or not host or not port_text.isascii() or not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise ConfigError(f"alerts.listen {listen!r} must be HOST:PORT with a port from 1 to 65535; {example}")
    loopback = host in LOOPBACK_NAMES or (
        host.startswith("127.") and all(p.isdigit() and int(p) < 256 for p in host.split(".")) and host.count(".") == 3
    )
    if not loopback:
        raise ConfigError(
            f"alerts.listen {listen!r} is not a loopback address: the listener serves this machine only (127.0.0.1, "
            "::1 or localhost); let your alerting system reach it through a tunnel or a local forwarder; " + example
        )
    return ("127.0.0.1" if host == "localhost" else host), int(port_text)


def _matchers(value: Any, kind: str) -> tuple[tuple[str, str], ...]:
    """A kind's mapping: an alert name, or a table of label matchers (texts, at least one)."""
    example = f'{kind} = "AcmeBluumAlert" or {kind} = {{ alertname = "AcmeBluumAlert", service = "bluum" }}'
    if isinstance(value, str):
        if not value.strip():
            raise ConfigError(f"alerts.{kind} is empty; give the team's alert name, e.g. {example}")
        return (("alertname", value),)
    if isinstance(value, dict) and value:
        bad = next((k for k, v in value.items() if not isinstance(v, str) or not v), None)
        if bad is not None:
            raise ConfigError(f"alerts.{kind}.{bad} must be a non-empty text (got {value[bad]!r}); e.g. {example}")
        return tuple(sorted(value.items()))
    raise ConfigError(f"alerts.{kind} must be an alert name or a table of label matchers (got {value!r}); {example}")


@dataclass(frozen=True)
class CompanyConfig:
    """Who is asking for production access (used by the report and the email draft)."""

    name: str | None = None
    dashboard_email: str | None = None
    product_description: str | None = None
    integration_model: str | None = None

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> CompanyConfig:
        names = [f.name for f in dataclasses.fields(cls)]
        _check_keys(values, "[company]", names)
        made = cls(**{name: _optional_str(values, name, "company") for name in names})
        if made.dashboard_email is not None and "@" not in made.dashboard_email:
            raise ConfigError(f"company.dashboard_email {made.dashboard_email!r} is not an email address")
        return made


def _rotation_period(value: Any) -> int:
    days = _expect(value, int, "credentials.rotation_period_days", "a whole number of days, e.g. 90")
    if days < 1:
        raise ConfigError(f"credentials.rotation_period_days must be >= 1 (got {days!r}); e.g. 90")
    return int(days)


def _key_created(value: Any) -> datetime.date | None:
    """``[credentials] key_created``: a past or present day (a TOML date, or a string in ISO 8601 form)."""
    if value is None:
        return None
    example = 'the day your key pair was created, from the Bluum dashboard, e.g. key_created = "2026-10-01"'
    if isinstance(value, datetime.datetime):
        value = value.date()
    elif isinstance(value, str):
        try:
            value = datetime.date.fromisoformat(value.strip())
        except ValueError:
            raise ConfigError(f"credentials.key_created {value!r} is not a date; {example}") from None
    if not isinstance(value, datetime.date):
        raise ConfigError(f"credentials.key_created must be a date (got {value!r}); {example}")
    if value > datetime.datetime.now(datetime.UTC).date() + datetime.timedelta(days=1):
        raise ConfigError(f"credentials.key_created {value.isoformat()} is in the future; {example}")
    return value


def _str_list(values: Mapping[str, Any], key: str, section: str, example: str) -> tuple[str, ...] | None:
    value = values.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{section}.{key} must be a list of strings (got {value!r}); e.g. {key} = {example}")
    return tuple(value)


@dataclass(frozen=True)
class ScanConfig:
    """What the ``credentials`` secret scan looks at (see ``bluum_readiness.credentials.scan``).

    :param paths: files and folders to scan, relative to the current directory (default: the current directory).
    :param exclude: extra glob patterns to skip (matched against the path relative to the scanned folder and
        against each path component), on top of the built-in ones (.git, .venv, node_modules, readiness-out…).
    :param baseline: a detect-secrets ``.secrets.baseline`` of reviewed findings to accept; default: the
        ``.secrets.baseline`` of the current directory when there is one.
    :param max_file_kb: files larger than this are skipped (and counted in the evidence).
    :param include_ignored: in a git work tree, also scan the files git ignores (a local ``.env``…).
    :param history: in a git repository, also scan the lines added by the commits reachable from HEAD (a key
        removed from the files is still in every clone); ``false`` turns it off.
    :param history_depth: at most this many commits, newest first (the evidence says when there are more).
    :param history_max_mb: at most this much patch text read from git in one scan (the rest is left for the
        next run; commits already scanned are cached).
    """

    paths: tuple[str, ...] = (".",)
    exclude: tuple[str, ...] = ()
    baseline: str | None = None
    max_file_kb: int = 1024
    include_ignored: bool = False
    history: bool = True
    history_depth: int = 1000
    history_max_mb: int = 32

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> ScanConfig:
        _check_keys(values, "[scan]", [f.name for f in dataclasses.fields(cls)])
        paths = _str_list(values, "paths", "scan", '["src", "config"]')
        if paths is not None and not paths:
            raise ConfigError('scan.paths is empty; name at least one file or folder, e.g. paths = ["."]')
        max_kb = _expect(values.get("max_file_kb", 1024), int, "scan.max_file_kb", "a whole number, e.g. 1024")
        if max_kb < 1:
            raise ConfigError(f"scan.max_file_kb must be >= 1 (got {max_kb!r}); e.g. max_file_kb = 1024")
        return cls(
            paths=paths or (".",),
            exclude=_str_list(values, "exclude", "scan", '["fixtures/**", "*.min.js"]') or (),
            baseline=_optional_str(values, "baseline", "scan"),
            max_file_kb=max_kb,
            include_ignored=_expect(
                values.get("include_ignored", False), bool, "scan.include_ignored", "true or false"
            ),
            history=_expect(values.get("history", True), bool, "scan.history", "true or false"),
            history_depth=_at_least_one(values, "history_depth", 1000, "commits"),
            history_max_mb=_at_least_one(values, "history_max_mb", 32, "megabytes"),
        )


#: The largest number of seconds a setting takes (one day): ``inf`` and ``nan`` are refused, and so is a bound that
#: would overflow a wait (Python's waits stop at about 292 years) or that no run could honour.
MAX_SECONDS = 86_400.0
#: The largest whole-number threshold (attempts, trials): larger ones only make a run that never ends.
MAX_COUNT = 10_000


def _shown(value: Any) -> str:
    """``repr(value)``, cut short for a huge number or text (a message stays one readable line)."""
    text = (
        repr(value) if not isinstance(value, int) or abs(value) < 10**30 else f"a {len(str(abs(value)))}-digit number"
    )
    return text if len(text) <= 80 else f"{text[:60]}…"


def _seconds(value: Any, key: str, example: str, most: float = MAX_SECONDS) -> float:
    """A finite number of seconds > 0 and at most ``most`` (ConfigError naming ``key`` otherwise)."""
    number = _expect(value, (int, float), key, f"a number of seconds, e.g. {example}")
    if isinstance(number, int) and abs(number) > 10**15:
        number = float("inf") if number > 0 else float("-inf")
    if not math.isfinite(number) or not 0 < number <= most:
        raise ConfigError(
            f"{key} must be a finite number of seconds > 0 and at most {most:,g} (got {_shown(value)}); e.g. {example}"
        )
    return float(number)


def _at_least_one(values: Mapping[str, Any], key: str, default: int, unit: str) -> int:
    number = _expect(values.get(key, default), int, f"scan.{key}", f"a whole number of {unit}, e.g. {default}")
    if number > 2**31:
        raise ConfigError(f"scan.{key} must be at most {2**31:,} (got {_shown(number)}); e.g. {key} = {default}")
    if number < 1:
        raise ConfigError(
            f"scan.{key} must be >= 1 (got {number!r}); e.g. {key} = {default}, or history = false to skip history"
        )
    return int(number)


def rotation_from_mapping(values: Mapping[str, Any]) -> CredentialsConfig:
    """``[rotation]``: where the rotation drill reads the *second* key pair against a real environment (created in
    the dashboard). The keys of ``[credentials]``; the env source defaults to BLUUM_NEXT_API_KEY/_SECRET."""
    if "rotation_period_days" in values:
        raise ConfigError("rotation.rotation_period_days belongs in [credentials]; [rotation] names a source only")
    defaults = {"key_env": "BLUUM_NEXT_API_KEY", "secret_env": "BLUUM_NEXT_API_SECRET"}
    try:
        return CredentialsConfig.from_mapping({**defaults, **values})
    except ConfigError as exc:
        raise ConfigError(rotation_message(str(exc))) from None


def rotation_message(text: str) -> str:
    """A ``[credentials]`` error message, said of ``[rotation]``."""
    return text.replace("credentials.", "rotation.").replace("[credentials]", "[rotation]")


@dataclass(frozen=True)
class Thresholds:
    """``[thresholds]``: what the checks hold integrations to (defaults are the suite's documented ones).

    :param request_timeout_s: the per-request timeout the integration is told to use.
    :param max_attempts: the most attempts of one operation a bounded retry policy may make.
    :param max_backoff_s: the longest single wait between attempts we accept (a cap must exist).
    :param backoff_trials: repetitions for the statistical backoff checks (growth, jitter).
    :param settle_timeout_s: how long to wait for the target to settle transfers or fill orders.
    :param webhook_latency_threshold_s: the p95 acknowledgement time of valid webhook deliveries we accept.
    :param webhook_scheme: the signing scheme the suite's webhook sender uses (``standard-webhooks`` or
        ``timestamped-hmac``).
    :param webhook_tolerance_s: the timestamp tolerance receivers are expected to apply (Standard Webhooks: 5 min).
    :param alert_timeout_s: how long the observability checks wait for an alert once its cause is in place (the
        adapter handed to the suite must use alert thresholds shorter than this).
    """

    request_timeout_s: float = 0.5
    max_attempts: int = 8
    max_backoff_s: float = 30.0
    backoff_trials: int = 8
    settle_timeout_s: float = 15.0
    webhook_latency_threshold_s: float = 5.0
    webhook_scheme: str = "standard-webhooks"
    webhook_tolerance_s: float = 300.0
    alert_timeout_s: float = 10.0


def thresholds_from_mapping(values: Mapping[str, Any]) -> Thresholds:
    """``[thresholds]`` → ``Thresholds``."""
    fields = {f.name: f for f in dataclasses.fields(Thresholds)}
    _check_keys(values, "[thresholds]", list(fields))
    kwargs: dict[str, Any] = {}
    for key, value in values.items():
        default = fields[key].default
        if isinstance(default, float):
            kwargs[key] = _seconds(value, f"thresholds.{key}", f"{key} = {default}")
        elif isinstance(default, int):
            number = _expect(value, int, f"thresholds.{key}", f"a whole number, e.g. {key} = {default}")
            if not 1 <= number <= MAX_COUNT:
                raise ConfigError(
                    f"thresholds.{key} must be between 1 and {MAX_COUNT:,} (got {_shown(value)}); "
                    f"e.g. {key} = {default}"
                )
            kwargs[key] = number
        else:
            kwargs[key] = _expect(value, str, f"thresholds.{key}", f'a string, e.g. {key} = "{default}"')
            if key == "webhook_scheme":
                _known_scheme(kwargs[key])
    return Thresholds(**kwargs)


@dataclass(frozen=True)
class RunConfig:
    """Everything ``bluum-readiness run`` (and ``pytest`` on the suite) needs to know.

    :param target: ``"embedded"`` (a twin started for the run) or the API base URL ending in ``/v1``.
    :param integration: the adapter factory, ``MODULE:FACTORY``, or ``exec:COMMAND`` for a program in any
        language driven over the adapter protocol (docs/adapter-protocol.md).
    :param only: checklist item ids to run (empty: every item).
    :param workers: pytest-xdist processes (0: none; ``"auto"``: one per CPU).
    :param out: the folder for readiness.json.
    :param rate_limit_per_s: requests/s the whole run (every worker) stays under; default 10 against a URL
        target, unlimited against the embedded twin.
    :param seed: seeds the checks' randomness and fault plans (recorded in the report).
    """

    target: str = "embedded"
    integration: str = DEFAULT_INTEGRATION
    only: tuple[str, ...] = ()
    workers: int | str = 0
    out: str = DEFAULT_OUT
    rate_limit_per_s: float | None = None
    seed: int = 0
    credentials: CredentialsConfig = field(default_factory=CredentialsConfig)
    thresholds: Thresholds = field(default_factory=Thresholds)
    company: CompanyConfig = field(default_factory=CompanyConfig)
    webhooks: WebhooksConfig = field(default_factory=WebhooksConfig)
    scan: ScanConfig = field(default_factory=ScanConfig)
    alerts: AlertsConfig | None = None  # [alerts]: listen for the team's alert notifications (None: no listener)
    rotation: CredentialsConfig | None = None  # the second pair for the rotation drill against a real environment
    source: str | None = None  # the file it came from

    KEYS = ("target", "integration", "only", "workers", "out", "rate_limit_per_s", "seed")
    SECTIONS = ("credentials", "thresholds", "company", "webhooks", "scan", "rotation", "alerts")

    @property
    def source_file(self) -> Path | None:
        """The config file this came from (``source`` without its ``[tool.bluum-readiness]`` suffix), or None."""
        if self.source is None:
            return None
        return Path(self.source.removesuffix(f" [{PYPROJECT_TABLE}]"))

    @property
    def embedded(self) -> bool:
        return self.target == "embedded"

    @property
    def effective_rate_limit(self) -> float | None:
        return (
            self.rate_limit_per_s
            if self.rate_limit_per_s is not None
            else (None if self.embedded else SANDBOX_RATE_LIMIT)
        )

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], source: str | None = None) -> RunConfig:
        _check_keys(values, "the top level", [*cls.KEYS, *cls.SECTIONS])
        for section in cls.SECTIONS:
            if section in values and not isinstance(values[section], dict):
                raise ConfigError(f"{section} must be a table ([{section}]), not {values[section]!r}")
        seed = values.get("seed", 0)
        _expect(seed, int, "seed", "a whole number, e.g. seed = 0")
        if not 0 <= seed < 2**63:
            raise ConfigError(f"seed must be a whole number from 0 to 2**63 - 1 (got {_shown(seed)}); e.g. seed = 0")
        made = cls(
            credentials=CredentialsConfig.from_mapping(values["credentials"])
            if "credentials" in values
            else CredentialsConfig(),
            thresholds=thresholds_from_mapping(_with_webhook_thresholds(values)),
            company=CompanyConfig.from_mapping(values.get("company", {})),
            scan=ScanConfig.from_mapping(values.get("scan", {})),
            webhooks=WebhooksConfig.from_mapping(values.get("webhooks", {})),
            rotation=rotation_from_mapping(values["rotation"]) if "rotation" in values else None,
            alerts=AlertsConfig.from_mapping(values["alerts"]) if "alerts" in values else None,
            seed=seed,
            source=source,
        )
        overrides = {
            key: values[key]
            for key in ("target", "integration", "only", "workers", "out", "rate_limit_per_s")
            if key in values
        }
        return made.override(**overrides)

    def override(self, **values: Any) -> RunConfig:
        """A copy with the given (non-None) settings replaced and validated; CLI flags go through here."""
        changes = {key: value for key, value in values.items() if value is not None}
        if "target" in changes:
            changes["target"] = _target(changes["target"])
        if "integration" in changes:
            changes["integration"] = _integration(changes["integration"])
        if "only" in changes:
            changes["only"] = _only(changes["only"])
        if "workers" in changes:
            changes["workers"] = _workers(changes["workers"])
        if "out" in changes:
            changes["out"] = str(_expect(changes["out"], str, "out", 'a folder, e.g. out = "readiness-out"'))
        if "rate_limit_per_s" in changes:
            rate = _expect(
                changes["rate_limit_per_s"], (int, float), "rate_limit_per_s", "requests per second, e.g. 10"
            )
            if isinstance(rate, int) and rate > MAX_RATE:
                rate = float("inf")
            if not math.isfinite(rate) or not 0 < rate <= MAX_RATE:
                raise ConfigError(
                    f"rate_limit_per_s must be a finite number of requests per second > 0 and at most {MAX_RATE:,.0f} "
                    f"(got {_shown(changes['rate_limit_per_s'])}); e.g. rate_limit_per_s = 10 (leave it out for "
                    "no limit against the embedded twin)"
                )
            changes["rate_limit_per_s"] = float(rate)
        if "seed" in changes:
            changes["seed"] = _expect(changes["seed"], int, "seed", "a whole number")
        return dataclasses.replace(self, **changes)


def _known_scheme(name: str) -> None:
    from bluum_readiness.webhooks.signing import SCHEMES

    if name not in SCHEMES:
        close = difflib.get_close_matches(name, list(SCHEMES), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ConfigError(f"webhook signing scheme {name!r} is not one of {', '.join(sorted(SCHEMES))}.{hint}")


def _with_webhook_thresholds(values: Mapping[str, Any]) -> dict[str, Any]:
    """``[thresholds]`` plus the thresholds given in ``[webhooks]`` (scheme, tolerance_s, latency_threshold_s)."""
    thresholds = dict(values.get("thresholds", {}))
    webhooks = values.get("webhooks", {})
    for key, field_name in WebhooksConfig.THRESHOLDS.items():
        if key in webhooks:
            if field_name in thresholds:
                raise ConfigError(
                    f"webhooks.{key} and thresholds.{field_name} are both set; keep one (they are the same setting)"
                )
            thresholds[field_name] = webhooks[key]
    return thresholds


def _target(value: Any) -> str:
    target = str(_expect(value, str, "target", f'"embedded" or an API base URL, e.g. {EXAMPLE_TARGET}'))
    parse_target(target)  # the one rule for targets (ConfigError naming the problem)
    return target if target == EMBEDDED else target.rstrip("/")


def _integration(value: Any) -> str:
    spec = str(_expect(value, str, "integration", 'MODULE:FACTORY, e.g. integration = "bluum_adapter:create"'))
    if spec.startswith("exec:"):
        from bluum_readiness.protocol import parse_command

        parse_command(spec.removeprefix("exec:"))
        return spec
    module, sep, attr = spec.partition(":")
    if not sep or not module or not attr:
        raise ConfigError(
            f"integration {spec!r} must be MODULE:FACTORY, e.g. bluum_adapter:create, or exec:COMMAND, e.g. "
            '"exec:node bluum_adapter.mjs" (run `bluum-readiness init` for a template)'
        )
    return spec


def _only(value: Any) -> tuple[str, ...]:
    """Checklist item ids, as given or comma-separated (``--only idempotency,webhooks``), in any letter case."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f'only must be a list of checklist item ids (got {value!r}); e.g. only = ["idempotency"]')
    ids = [part.strip().lower() for text in value for part in text.split(",") if part.strip()]
    if value and not ids:  # only = [] is every item; only = "," names none
        raise ConfigError(f'only names no checklist item (got {value!r}); e.g. only = ["idempotency"]')
    for item_id in ids:
        try:
            checklist_item(item_id)
        except ConfigError as exc:
            item, dot, _ = item_id.partition(".")
            if dot and item in {i.id for i in checklist_items()}:
                raise ConfigError(
                    f"only: {item_id!r} is a check; checks run by item: only {item!r} runs it (--only {item})"
                ) from None
            raise ConfigError(f"only: {exc}") from None
    return tuple(dict.fromkeys(ids))


def _workers(value: Any) -> int | str:
    if value == "auto":
        return "auto"
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 18:  # not "²", not 5,000 digits
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 10**18:
        raise ConfigError(f'workers must be a whole number >= 0 or "auto" (got {_shown(value)}); e.g. workers = 2')
    return value


def find_config(cwd: Path | None = None) -> tuple[Path, str] | None:
    """The config in ``cwd``: ``bluum-readiness.toml``, else ``[tool.bluum-readiness]`` in pyproject.toml."""
    here = cwd or Path.cwd()
    if (here / CONFIG_FILE).is_file():
        return here / CONFIG_FILE, ""
    pyproject = here / "pyproject.toml"
    if pyproject.is_file():
        data = _read_toml(pyproject)
        if _tool_table(data) is not None:
            return pyproject, PYPROJECT_TABLE
    return None


def _read_toml(path: Path) -> dict[str, Any]:
    """``path``'s TOML; a UTF-8 byte order mark first (Notepad's and PowerShell's UTF-8) is read past."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path} ({exc.strerror or exc}); check the path") from None
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"{path} is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} on line {line}); TOML files are UTF-8: "
            "save it as UTF-8"
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML ({exc}); fix the syntax") from None
    except RecursionError:
        raise ConfigError(
            f"{path} nests tables or arrays too deeply to read; bluum-readiness settings are at most two levels deep"
        ) from None
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        raise ConfigError(f"{path} holds a value that cannot be read ({exc}); fix it") from None


def _tool_table(data: dict[str, Any]) -> Any:
    """``[tool.bluum-readiness]`` of a pyproject.toml's data, or None (also when ``tool`` is not a table)."""
    tool = data.get("tool")
    return tool.get("bluum-readiness") if isinstance(tool, dict) else None


def load_config(path: str | Path | None = None, cwd: Path | None = None) -> RunConfig:
    """The run configuration from ``path`` (a ``--config`` file) or the one found in ``cwd``; defaults if none."""
    if path is not None:
        file = Path(path)
        try:
            is_file = file.is_file()
        except OSError as exc:  # e.g. a name longer than the system allows
            raise ConfigError(
                f"--config {path}: {exc.strerror or exc}; pass the path of a bluum-readiness.toml"
            ) from None
        if not is_file:
            raise ConfigError(f"--config {path}: no such file; pass the path of a bluum-readiness.toml")
        data = _read_toml(file)
        table = _tool_table(data) if file.name == "pyproject.toml" else data
        if table is None:
            raise ConfigError(f"{file} has no [tool.bluum-readiness] table; add one or pass a bluum-readiness.toml")
        return _from_table(table, str(file))
    found = find_config(cwd)
    if found is None:
        return RunConfig()
    file, table_name = found
    data = _read_toml(file)
    table = _tool_table(data) if table_name else data
    return _from_table(table, f"{file}" + (f" [{table_name}]" if table_name else ""))


def _no_control_characters(value: Any, where: str) -> None:
    """No text of the configuration holds a NUL or another control character but tab (and line breaks in
    ``[company]``; TOML lets ``\\u0000`` be written): no path, command, variable name or URL may hold one, and the
    system would refuse it later with an error that names no setting."""
    if isinstance(value, dict):
        for key, inner in value.items():
            _no_control_characters(inner, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            _no_control_characters(inner, f"{where}[{index}]")
    elif isinstance(value, str):
        allowed = "\t\n\r" if where.startswith("company.") else "\t"  # [company] texts may span lines
        bad = next((c for c in value if (ord(c) < 32 and c not in allowed) or ord(c) == 127), None)
        if bad is not None:
            shown = where if where.isprintable() else repr(where)  # a key may hold one too
            raise ConfigError(
                f"{shown} holds the control character U+{ord(bad):04X} ({value[:60]!r}); remove it (settings are "
                "names, paths, commands and URLs)"
            )


def _from_table(table: Any, source: str) -> RunConfig:
    if not isinstance(table, dict):
        raise ConfigError(f"{source}: the configuration must be a TOML table")
    try:
        _no_control_characters(table, "")
        return RunConfig.from_mapping(table, source)
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from None
