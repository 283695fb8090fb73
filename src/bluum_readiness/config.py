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
    source = "env"                            # env | file | command
    [thresholds]
    request_timeout_s = 0.5
    [company]
    name = "Acme Invest"

See docs/configuration.md for every key.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import shlex
import stat
import subprocess
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bluum_readiness.catalog import item as checklist_item
from bluum_readiness.errors import ConfigError
from bluum_readiness.harness import HarnessSettings
from bluum_readiness.integration import Credentials

__all__ = [
    "CONFIG_FILE",
    "DEFAULT_INTEGRATION",
    "CompanyConfig",
    "CredentialsConfig",
    "RunConfig",
    "find_config",
    "load_config",
]

CONFIG_FILE = "bluum-readiness.toml"
PYPROJECT_TABLE = "tool.bluum-readiness"
DEFAULT_INTEGRATION = "bluum_readiness.reference:create_fast"
DEFAULT_OUT = "readiness-out"
SANDBOX_RATE_LIMIT = 10.0  # requests/s per key pair: the real sandbox's documented limit


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
    :param key: the key id for ``file``/``command`` (not secret); default: ``$BLUUM_API_KEY``.
    """

    source: str = "env"
    key: str | None = None
    key_env: str = "BLUUM_API_KEY"
    secret_env: str = "BLUUM_API_SECRET"
    path: str | None = None
    command: tuple[str, ...] = ()

    SOURCES = ("env", "file", "command")

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> CredentialsConfig:
        if "secret" in values:
            raise ConfigError(
                'credentials.secret: never put a secret in the config file; use source = "env", "file" or "command"'
            )
        _check_keys(values, "[credentials]", ["source", "key", "key_env", "secret_env", "path", "command"])
        source = _expect(values.get("source", "env"), str, "credentials.source", '"env", "file" or "command"')
        if source not in cls.SOURCES:
            close = difflib.get_close_matches(source, cls.SOURCES, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ConfigError(f'credentials.source {source!r} is not one of "env", "file", "command".{hint}')
        command = values.get("command", [])
        if isinstance(command, str):
            command = tuple(shlex.split(command))
        elif isinstance(command, list) and all(isinstance(part, str) for part in command):
            command = tuple(command)
        else:
            raise ConfigError(
                f'credentials.command must be a string or a list of strings (got {command!r}); e.g. command = "op read op://bluum/secret"'
            )
        made = cls(
            source=source,
            key=_optional_str(values, "key", "credentials"),
            key_env=str(_expect(values.get("key_env", "BLUUM_API_KEY"), str, "credentials.key_env", "a variable name")),
            secret_env=str(
                _expect(values.get("secret_env", "BLUUM_API_SECRET"), str, "credentials.secret_env", "a variable name")
            ),
            path=_optional_str(values, "path", "credentials"),
            command=command,
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
        a ``file``/``command`` source, or an ``env`` source whose variables are set."""
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
        key = self.key or os.environ.get(self.key_env)
        if not key:
            raise ConfigError(
                f"set credentials.key (the key id, not secret) or {self.key_env} for the {self.source} source"
            )
        secret = self._file_secret() if self.source == "file" else self._command_secret()
        return Credentials(key, secret)

    def _file_secret(self) -> str:
        assert self.path is not None
        path = Path(self.path).expanduser()
        try:
            mode = path.stat().st_mode
        except OSError as exc:
            raise ConfigError(f"credentials.path {self.path!r} cannot be read ({exc.strerror}); fix the path") from None
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ConfigError(
                f"credentials.path {self.path!r} is readable by others (mode {stat.S_IMODE(mode):o}); "
                f"run `chmod 600 {self.path}`"
            )
        secret = path.read_text(encoding="utf-8").strip()
        if not secret:
            raise ConfigError(f"credentials.path {self.path!r} is empty; it must hold the API secret")
        return secret

    def _command_secret(self) -> str:
        try:
            done = subprocess.run(list(self.command), capture_output=True, text=True, timeout=30, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ConfigError(
                f"credentials.command {self.command[0]!r} could not run ({exc}); fix the command"
            ) from None
        if done.returncode != 0 or not done.stdout.strip():
            raise ConfigError(
                f"credentials.command {self.command[0]!r} exited {done.returncode} without printing a secret; "
                "run it yourself to see why"
            )
        return done.stdout.strip()


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


def thresholds_from_mapping(values: Mapping[str, Any], seed: int | None) -> HarnessSettings:
    """``[thresholds]`` → ``HarnessSettings`` (every field but ``seed``, which is top-level)."""
    fields = {f.name: f for f in dataclasses.fields(HarnessSettings) if f.name != "seed"}
    _check_keys(values, "[thresholds]", list(fields))
    kwargs: dict[str, Any] = {}
    for key, value in values.items():
        default = fields[key].default
        if isinstance(default, float):
            number = _expect(value, (int, float), f"thresholds.{key}", f"a number of seconds, e.g. {key} = {default}")
            if number <= 0:
                raise ConfigError(f"thresholds.{key} must be > 0 (got {value!r}); e.g. {key} = {default}")
            kwargs[key] = float(number)
        elif isinstance(default, int):
            number = _expect(value, int, f"thresholds.{key}", f"a whole number, e.g. {key} = {default}")
            if number < 1:
                raise ConfigError(f"thresholds.{key} must be >= 1 (got {value!r}); e.g. {key} = {default}")
            kwargs[key] = number
        else:
            kwargs[key] = _expect(value, str, f"thresholds.{key}", f'a string, e.g. {key} = "{default}"')
    if seed is not None:
        kwargs["seed"] = seed
    return HarnessSettings(**kwargs)


@dataclass(frozen=True)
class RunConfig:
    """Everything ``bluum-readiness run`` (and ``pytest`` on the suite) needs to know.

    :param target: ``"embedded"`` (a twin started for the run) or the API base URL ending in ``/v1``.
    :param integration: the adapter factory, ``MODULE:FACTORY``.
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
    thresholds: HarnessSettings = field(default_factory=HarnessSettings)
    company: CompanyConfig = field(default_factory=CompanyConfig)
    source: str | None = None  # the file it came from

    KEYS = ("target", "integration", "only", "workers", "out", "rate_limit_per_s", "seed")
    SECTIONS = ("credentials", "thresholds", "company")

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
        made = cls(
            credentials=CredentialsConfig.from_mapping(values["credentials"])
            if "credentials" in values
            else CredentialsConfig(),
            thresholds=thresholds_from_mapping(values.get("thresholds", {}), seed),
            company=CompanyConfig.from_mapping(values.get("company", {})),
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
            if rate <= 0:
                raise ConfigError(f"rate_limit_per_s must be > 0 (got {rate!r}); e.g. rate_limit_per_s = 10")
            changes["rate_limit_per_s"] = float(rate)
        if "seed" in changes:
            changes["seed"] = _expect(changes["seed"], int, "seed", "a whole number")
            changes["thresholds"] = dataclasses.replace(self.thresholds, seed=changes["seed"])
        return dataclasses.replace(self, **changes)


def _target(value: Any) -> str:
    target = str(
        _expect(value, str, "target", '"embedded" or an API base URL, e.g. https://sandbox.api.bluumfinance.com/v1')
    )
    if target == "embedded":
        return target
    if not target.startswith(("http://", "https://")) or "://" not in target or not target.split("://", 1)[1]:
        close = difflib.get_close_matches(target, ["embedded"], n=1)
        hint = " Did you mean 'embedded'?" if close else ""
        raise ConfigError(
            f"target {target!r} is neither 'embedded' nor an http(s) URL.{hint} "
            "Use e.g. https://sandbox.api.bluumfinance.com/v1"
        )
    return target.rstrip("/")


def _integration(value: Any) -> str:
    spec = str(_expect(value, str, "integration", 'MODULE:FACTORY, e.g. integration = "bluum_adapter:create"'))
    module, sep, attr = spec.partition(":")
    if not sep or not module or not attr:
        raise ConfigError(
            f"integration {spec!r} must be MODULE:FACTORY, e.g. bluum_adapter:create "
            "(run `bluum-readiness init` for a template)"
        )
    return spec


def _only(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f'only must be a list of checklist item ids (got {value!r}); e.g. only = ["idempotency"]')
    for item_id in value:
        try:
            checklist_item(item_id)
        except ConfigError as exc:
            raise ConfigError(f"only: {exc}") from None
    return tuple(dict.fromkeys(value))


def _workers(value: Any) -> int | str:
    if value == "auto":
        return "auto"
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f'workers must be a whole number >= 0 or "auto" (got {value!r}); e.g. workers = 2')
    return value


def find_config(cwd: Path | None = None) -> tuple[Path, str] | None:
    """The config in ``cwd``: ``bluum-readiness.toml``, else ``[tool.bluum-readiness]`` in pyproject.toml."""
    here = cwd or Path.cwd()
    if (here / CONFIG_FILE).is_file():
        return here / CONFIG_FILE, ""
    pyproject = here / "pyproject.toml"
    if pyproject.is_file():
        data = _read_toml(pyproject)
        if "bluum-readiness" in data.get("tool", {}):
            return pyproject, PYPROJECT_TABLE
    return None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path} ({exc.strerror}); check the path") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML ({exc}); fix the syntax") from None


def load_config(path: str | Path | None = None, cwd: Path | None = None) -> RunConfig:
    """The run configuration from ``path`` (a ``--config`` file) or the one found in ``cwd``; defaults if none."""
    if path is not None:
        file = Path(path)
        if not file.is_file():
            raise ConfigError(f"--config {path}: no such file; pass the path of a bluum-readiness.toml")
        data = _read_toml(file)
        table = data.get("tool", {}).get("bluum-readiness") if file.name == "pyproject.toml" else data
        if table is None:
            raise ConfigError(f"{file} has no [tool.bluum-readiness] table; add one or pass a bluum-readiness.toml")
        return _from_table(table, str(file))
    found = find_config(cwd)
    if found is None:
        return RunConfig()
    file, table_name = found
    data = _read_toml(file)
    table = data["tool"]["bluum-readiness"] if table_name else data
    return _from_table(table, f"{file}" + (f" [{table_name}]" if table_name else ""))


def _from_table(table: Any, source: str) -> RunConfig:
    if not isinstance(table, dict):
        raise ConfigError(f"{source}: the configuration must be a TOML table")
    try:
        return RunConfig.from_mapping(table, source)
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from None
