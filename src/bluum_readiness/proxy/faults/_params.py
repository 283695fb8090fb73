"""Fault parameters: a fault class is a dataclass whose fields are its parameters (and its TOML keys).

``validate_fault_class`` runs when a kind is registered; ``build_fault`` turns a mapping of parameters
(from TOML, JSON or Python) into a fault, with errors that name the parameter and say what is valid.
"""

from __future__ import annotations

import dataclasses
import difflib
import inspect
import math
import types
import typing
from collections.abc import Mapping
from typing import Any

from bluum_readiness.errors import ConfigError
from bluum_readiness.proxy.faults.base import Fault

__all__ = ["RULE_KEYS", "build_fault", "describe_params", "fault_params", "validate_fault_class"]

#: The keys of a plan entry that belong to the rule; a fault's parameters may not reuse them.
RULE_KEYS = ("name", "fault", "method", "path", "path_regex", "nth", "first", "count", "probability")

_SCALARS: dict[type, str] = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _base_type(hint: Any) -> Any:
    """``X | None`` → ``X``; other hints unchanged."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return args[0] if len(args) == 1 else hint
    return hint


def _supported(hint: Any) -> bool:
    base = _base_type(hint)
    return base in _SCALARS or (typing.get_origin(base) is dict and typing.get_args(base) == (str, str))


def validate_fault_class(name: str, cls: type) -> None:
    """Refuse a class that cannot be a registered fault, saying what is missing."""
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
        raise ConfigError(f"fault {name!r}: {cls!r} must be a dataclass whose fields are its parameters")
    if not inspect.iscoroutinefunction(getattr(cls, "apply", None)):
        raise ConfigError(f"fault {name!r}: {cls.__name__} needs `async def apply(self, request, forward)`")
    for field_name, hint in _hints(cls).items():
        if field_name in RULE_KEYS:
            raise ConfigError(f"fault {name!r}: parameter {field_name!r} is a rule key; rename it")
        if not _supported(hint):
            raise ConfigError(
                f"fault {name!r}: parameter {field_name!r} has type {hint!r}; "
                "use bool, int, float, str (optionally | None) or dict[str, str]"
            )


def fault_params(cls: type) -> dict[str, Any]:
    """The parameters of a fault class: name → type hint."""
    return {f.name: _hints(cls)[f.name] for f in dataclasses.fields(cls) if f.init}


def describe_params(cls: type) -> str:
    names = list(fault_params(cls))
    return ", ".join(names) if names else "none"


def _coerce(key: str, value: Any, hint: Any) -> Any:
    base = _base_type(hint)
    if value is None and base is not hint:
        return None
    if base is float and isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value):  # TOML's inf/nan (and 1e309), JSON's 1e999: a hold for ever, or no JSON
            raise ConfigError(f"{key} must be a finite number; got {value!r}")
        return float(value)
    if base in (bool, int, str) and type(value) is base:
        return value
    if typing.get_origin(base) is dict and isinstance(value, Mapping):
        if all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
            return dict(value)
        raise ConfigError(f'{key} must be a table of strings, e.g. {{ X-Custom = "1" }}; got {value!r}')
    wanted = _SCALARS.get(base, "a table of strings")
    raise ConfigError(f"{key} must be {wanted}; got {value!r}")


def build_fault(kind: str, cls: type, params: Mapping[str, Any]) -> Fault:
    """Instantiate ``cls`` from ``params``; unknown keys, wrong types and bad values are ``ConfigError``."""
    known = fault_params(cls)
    for key in params:
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(
                f"{key!r} is not a parameter of fault {kind!r}{hint}; its parameters: {describe_params(cls)}"
            )
    values = {key: _coerce(key, value, known[key]) for key, value in params.items()}
    try:
        fault: Fault = cls(**values)
    except TypeError as exc:  # a required parameter is missing
        raise ConfigError(f"fault {kind!r}: {exc}; its parameters: {describe_params(cls)}") from None
    except ValueError as exc:  # the fault's own __post_init__ check
        raise ConfigError(f"fault {kind!r}: {exc}") from None
    return fault
