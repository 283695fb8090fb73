"""``FaultRule``: which requests a fault applies to. Matching only; counting and dice live in the engine."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from bluum_readiness.errors import ConfigError
from bluum_readiness.proxy.faults import Fault, kind_of

__all__ = ["FaultRule", "compile_glob"]

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def compile_glob(pattern: str) -> re.Pattern[str]:
    """A path glob as a regex: ``*`` is one path segment (no ``/``), ``**`` any run of characters."""
    parts = re.split(r"(\*\*|\*)", pattern)
    body = "".join(".*" if p == "**" else "[^/]*" if p == "*" else re.escape(p) for p in parts)
    return re.compile(body)


@dataclass(frozen=True)
class FaultRule:
    """Apply ``fault`` to the requests this rule selects; the first applicable rule of a plan wins.

    :param name: unique within a plan; names the fault in recorded exchanges and in the control API.
    :param fault: what happens to a selected request (any ``Fault``).
    :param method: an HTTP method or several (``"POST"``, ``("POST", "DELETE")``); None: any method.
    :param path: a glob over the path without the query (``"/v1/investors/*/deposits"``; ``*`` is one
        segment, ``**`` anything), or a compiled regex (full match); None: any path.
    :param nth: apply only to the nth request matching ``method`` and ``path`` (1-based).
    :param first: apply only to the first N matching requests.
    :param count: apply at most this many times in all.
    :param probability: chance to apply to an otherwise eligible request, rolled with the plan's seeded RNG.

    Occurrences are counted per rule over every request that matches its method and path, whether or not
    an earlier rule took the request, so ``nth=2`` always means "the second such request".
    """

    name: str
    fault: Fault
    method: str | tuple[str, ...] | None = None
    path: str | re.Pattern[str] | None = None
    nth: int | None = None
    first: int | None = None
    count: int | None = None
    probability: float = 1.0
    _pattern: re.Pattern[str] | None = field(init=False, repr=False, compare=False, default=None)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip() or "/" in self.name:
            raise ConfigError(f"rule name {self.name!r} is invalid; use a non-empty name without '/'")
        if not isinstance(self.fault, Fault):
            raise ConfigError(f"rule {self.name!r}: fault {self.fault!r} has no `async def apply(request, forward)`")
        object.__setattr__(self, "method", self._methods(self.method))
        for key in ("nth", "first", "count"):
            value = getattr(self, key)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
                raise ConfigError(f"rule {self.name!r}: {key}={value!r} must be an integer >= 1 (or left out)")
        if self.nth is not None and self.first is not None:
            raise ConfigError(f"rule {self.name!r}: give nth or first, not both (nth picks one request, first N)")
        p = self.probability
        if isinstance(p, bool) or not isinstance(p, int | float) or not 0.0 <= p <= 1.0:
            raise ConfigError(f"rule {self.name!r}: probability={self.probability!r} must be between 0 and 1")
        if self.path is not None and not isinstance(self.path, str | re.Pattern):
            raise ConfigError(f"rule {self.name!r}: path {self.path!r} must be a glob string or a compiled regex")
        pattern = compile_glob(self.path) if isinstance(self.path, str) else self.path
        object.__setattr__(self, "_pattern", pattern)

    def _methods(self, method: str | Iterable[str] | None) -> tuple[str, ...] | None:
        if method is None:
            return None
        methods = tuple(m.upper() for m in ([method] if isinstance(method, str) else method))
        unknown = [m for m in methods if m not in _METHODS]
        if unknown or not methods:
            raise ConfigError(
                f"rule {self.name!r}: method {unknown[0] if unknown else '[]'!r} is not valid; "
                f"use one or more of {', '.join(sorted(_METHODS))}"
            )
        return methods

    def matches(self, method: str, path: str) -> bool:
        """Whether a request is one of this rule's candidates (method and path; no counting)."""
        if self.method is not None and method.upper() not in self.method:
            return False
        return self._pattern is None or self._pattern.fullmatch(path) is not None

    def in_window(self, occurrence: int, applied: int) -> bool:
        """Whether the ``occurrence``-th matching request is eligible, given ``applied`` earlier applications."""
        if self.nth is not None and occurrence != self.nth:
            return False
        if self.first is not None and occurrence > self.first:
            return False
        return self.count is None or applied < self.count

    def to_dict(self) -> dict[str, Any]:
        """The rule as a plan entry (the TOML/JSON shape ``Plan.from_dict`` reads)."""
        entry: dict[str, Any] = {"name": self.name, "fault": kind_of(self.fault)}
        if dataclasses.is_dataclass(self.fault):
            entry.update({k: v for k, v in dataclasses.asdict(self.fault).items() if v is not None and v != {}})
        if self.method is not None:
            entry["method"] = list(self.method)
        if isinstance(self.path, re.Pattern):
            entry["path_regex"] = self.path.pattern
        elif self.path is not None:
            entry["path"] = self.path
        for key in ("nth", "first", "count"):
            if getattr(self, key) is not None:
                entry[key] = getattr(self, key)
        if self.probability != 1.0:
            entry["probability"] = self.probability
        return entry
