"""``Plan``: the rules of a run and the seed of their dice, from Python or from a TOML file.

TOML shape (documented in docs/fault-plans.md; example in examples/fault-plan.toml)::

    seed = 7                                 # optional, default 0
    [[rules]]
    name = "deposits-rate-limited"           # required, unique
    fault = "status"                         # required: a registered fault kind
    status = 429                             # the fault's own parameters, inline
    retry_after = 1
    method = "POST"                          # rule keys: method, path | path_regex, nth | first, count,
    path = "/v1/investors/*/deposits"        #   probability
    first = 2
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bluum_readiness.errors import ConfigError
from bluum_readiness.proxy.faults import FAULTS, make_fault
from bluum_readiness.proxy.faults._params import RULE_KEYS, fault_params
from bluum_readiness.proxy.rules import FaultRule

__all__ = ["Plan", "rule_from_dict"]

_PLAN_KEYS = ("seed", "rules")
MAX_PLAN_BYTES = 1024 * 1024
"""◆ The largest plan file read (1 MiB: thousands of rules)."""


def _unknown(key: str, valid: tuple[str, ...] | list[str]) -> str:
    close = difflib.get_close_matches(key, valid, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


@dataclass(frozen=True)
class Plan:
    """An ordered list of rules plus the seed of the RNG that rolls their ``probability``.

    Same plan, same seed, same requests in the same order → the same faults, so a failure replays exactly.
    Rule names are unique. Build it in Python (``Plan([FaultRule(...)], seed=7)``), ``from_dict`` or
    ``from_toml``; every mistake is a ``ConfigError`` naming the rule and key and saying what is valid.
    """

    rules: tuple[FaultRule, ...] = ()
    seed: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "rules", tuple(self.rules))
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise ConfigError(f"seed={self.seed!r} must be an integer")
        seen: set[str] = set()
        for rule in self.rules:
            if not isinstance(rule, FaultRule):
                raise ConfigError(f"{rule!r} is not a FaultRule; a plan holds FaultRule objects")
            if rule.name in seen:
                raise ConfigError(f"two rules are named {rule.name!r}; give every rule a unique name")
            seen.add(rule.name)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "plan") -> Plan:
        """A plan from its TOML/JSON shape; ``source`` (e.g. the file name) prefixes error messages."""
        if not isinstance(data, Mapping):
            raise ConfigError(f"{source}: a plan is a table with 'seed' and 'rules'; got {type(data).__name__}")
        for key in data:
            if key not in _PLAN_KEYS:
                hint = _unknown(key, _PLAN_KEYS)
                raise ConfigError(f"{source}: unknown key {key!r}{hint}; a plan has only seed and rules")
        entries = data.get("rules", [])
        if not isinstance(entries, list) or not all(isinstance(e, Mapping) for e in entries):
            raise ConfigError(f"{source}: 'rules' must be an array of tables ([[rules]] entries)")
        seed = data.get("seed", 0)
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ConfigError(f"{source}: seed = {seed!r} must be an integer, e.g. seed = 7")
        rules = [rule_from_dict(entry, where=f"{source}: rules[{i}]") for i, entry in enumerate(entries)]
        try:
            return cls(tuple(rules), seed)
        except ConfigError as exc:
            raise ConfigError(f"{source}: {exc}") from None

    @classmethod
    def from_toml(cls, path: str | Path) -> Plan:
        """Read a plan file (format: docs/fault-plans.md)."""
        file = Path(path)
        try:
            with file.open("rb") as stream:
                raw = stream.read(MAX_PLAN_BYTES + 1)  # bounded: --plan /dev/zero read for ever
            if len(raw) > MAX_PLAN_BYTES:
                raise ConfigError(
                    f"plan file {file} is over {MAX_PLAN_BYTES // 1024 // 1024} MiB; a plan is a short list of "
                    "rules: pass the TOML plan file"
                )
            data = tomllib.loads(raw.decode("utf-8-sig"))  # a byte order mark first (Notepad's UTF-8) is read past
        except FileNotFoundError:
            raise ConfigError(f"plan file {file} does not exist; pass an existing TOML file") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"plan file {file} cannot be read ({exc}); check the path and permissions") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"plan file {file} is not valid TOML: {exc}") from None
        except RecursionError:
            raise ConfigError(
                f"plan file {file} is nested too deeply to read; a plan is flat [[rules]] tables"
            ) from None
        except ValueError as exc:  # tomllib passes Python's int-string limit (over 4,300 digits) through
            raise ConfigError(f"plan file {file} holds a value that cannot be read ({str(exc)[:80]})") from None
        return cls.from_dict(data, source=str(file))

    def to_dict(self) -> dict[str, Any]:
        return {"seed": self.seed, "rules": [rule.to_dict() for rule in self.rules]}


def rule_from_dict(entry: Mapping[str, Any], *, where: str = "rule") -> FaultRule:
    """One rule from a plan entry: rule keys (``RULE_KEYS``) plus the fault's own parameters, inline."""
    name = entry.get("name")
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{where}: 'name' is required and must be a non-empty string, e.g. name = \"slow-orders\"")
    where = f"{where} ({name!r})"
    kind = entry.get("fault")
    if not isinstance(kind, str):
        raise ConfigError(f"{where}: 'fault' is required; use one of {', '.join(FAULTS.names())}")
    rule_keys = {k: v for k, v in entry.items() if k in RULE_KEYS}
    params = {k: v for k, v in entry.items() if k not in RULE_KEYS}
    try:
        known = list(fault_params(FAULTS.get(kind)))
        for key in params:
            if key not in known:
                raise ConfigError(
                    f"unknown key {key!r}{_unknown(key, [*RULE_KEYS, *known])}; rule keys: {', '.join(RULE_KEYS)}; "
                    f"parameters of fault {kind!r}: {', '.join(known) or 'none'}"
                )
        fault = make_fault(kind, params)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    try:
        return FaultRule(name, fault, **_rule_options(rule_keys))
    except ConfigError as exc:
        raise ConfigError(f"{where}: {str(exc).removeprefix(f'rule {name!r}: ')}") from None


def _rule_options(keys: Mapping[str, Any]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    method = keys.get("method")
    if method is not None:
        if not (isinstance(method, str) or (isinstance(method, list) and all(isinstance(m, str) for m in method))):
            raise ConfigError(f'method = {method!r} must be a string or a list of strings, e.g. method = "POST"')
        options["method"] = method if isinstance(method, str) else tuple(method)
    if "path" in keys and "path_regex" in keys:
        raise ConfigError("give path (a glob) or path_regex (a regular expression), not both")
    for key in ("path", "path_regex"):
        if key in keys and not isinstance(keys[key], str):
            raise ConfigError(f'{key} = {keys[key]!r} must be a string, e.g. path = "/v1/investors/*/deposits"')
    if "path" in keys:
        options["path"] = keys["path"]
    if "path_regex" in keys:
        try:
            options["path"] = re.compile(keys["path_regex"])
        except re.error as exc:
            raise ConfigError(f"path_regex = {keys['path_regex']!r} is not a valid regular expression: {exc}") from None
    for key in ("nth", "first", "count"):
        if key in keys:
            options[key] = keys[key]
    if "probability" in keys:
        p = keys["probability"]
        if isinstance(p, bool) or not isinstance(p, int | float):
            raise ConfigError(f"probability = {p!r} must be a number between 0 and 1, e.g. probability = 0.25")
        options["probability"] = float(p)
    return options
