"""A small, instance-scoped registry that validates on ``register`` (the schemathesis/pluggy pattern).

Generic on purpose so the suite's other registries (checks, report writers) can share it; it lives here
until a second user moves it to ``bluum_readiness.registry``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from bluum_readiness.errors import ConfigError

__all__ = ["Registry"]

T = TypeVar("T")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class Registry(Generic[T]):
    """Named items of one kind. ``validate(name, item)`` raises ``ConfigError`` to refuse an item."""

    def __init__(self, what: str, validate: Callable[[str, T], None] | None = None) -> None:
        self.what = what
        self._validate = validate
        self._items: dict[str, T] = {}

    def register(self, name: str, item: T) -> T:
        """Add ``item`` under ``name``; a bad name, a duplicate or an invalid item is a ``ConfigError``."""
        if not _NAME.match(name):
            raise ConfigError(f"{self.what} name {name!r} is invalid; use lowercase letters, digits and _")
        if name in self._items:
            raise ConfigError(f"{self.what} {name!r} is already registered; pick another name or unregister it")
        if self._validate is not None:
            self._validate(name, item)
        self._items[name] = item
        return item

    def unregister(self, name: str) -> None:
        self._items.pop(name, None)

    def get(self, name: str) -> T:
        """The item called ``name``, or a ``ConfigError`` listing the known names and the closest match."""
        try:
            return self._items[name]
        except KeyError:
            close = difflib.get_close_matches(name, self._items, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(f"unknown {self.what} {name!r}{hint}; known: {', '.join(sorted(self._items))}") from None

    def names(self) -> list[str]:
        return sorted(self._items)

    def copy(self) -> dict[str, T]:
        """A snapshot to ``restore`` later (tests that register throw-away items)."""
        return dict(self._items)

    def restore(self, snapshot: dict[str, T]) -> None:
        self._items = dict(snapshot)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._items))
