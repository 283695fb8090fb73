"""The registry of checks: each check proves one thing about one checklist item.

A check is a function taking the ``Harness`` and returning nothing; it raises ``ConformanceFailure`` with what
it observed when the integration falls short (``Check.execute`` stamps which check, item and severity it is),
``NotVerifiable`` when it cannot tell, and lets ``HarnessError`` through when the harness itself failed. Register
with the ``check`` decorator::

    @check("idempotency.same-key-on-retry", item="idempotency", title="The same key on every retry")
    def same_key_on_retry(h: Harness) -> None: ...
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bluum_readiness.catalog import item as checklist_item
from bluum_readiness.failures import ConformanceFailure, Severity, hidden_for_findings

if TYPE_CHECKING:
    from bluum_readiness.checks.judge import Judge
    from bluum_readiness.harness import Harness

__all__ = ["Check", "Registry", "check", "registry"]

CheckFunction = Callable[["Harness"], None]
_ID = re.compile(r"^[a-z][a-z-]*\.[a-z0-9][a-z0-9-]*$")


@dataclass(frozen=True)
class Check:
    """A registered check. ``needs`` names optional adapter capabilities or target features it requires; ``judge``
    is its judge when the check is a pure judgement of observations (``checks/judge.py``)."""

    id: str
    item: str
    title: str
    run: CheckFunction
    severity: Severity = Severity.REQUIRED
    needs: tuple[str, ...] = ()
    twin_only: bool = False
    judge: Judge | None = None
    static: bool = False  # it reads the team's files, never an API (its provenance is "static", wherever it ran)

    def execute(self, h: Harness) -> None:
        """Run the check; a finding it raises is stamped with this check's id, item and severity."""
        __tracebackhide__ = hidden_for_findings
        try:
            self.run(h)
        except ConformanceFailure as finding:
            raise finding.stamp(self.id, self.item, self.severity) from None


class Registry:
    """Checks by id, validated when registered."""

    def __init__(self) -> None:
        self._checks: dict[str, Check] = {}

    def register(self, entry: Check) -> Check:
        if not _ID.match(entry.id):
            raise ValueError(f"check id {entry.id!r} must look like 'item.short-name' (lowercase, dashes)")
        checklist_item(entry.item)  # raises for an unknown item
        if not entry.id.startswith(entry.item + "."):
            raise ValueError(f"check id {entry.id!r} must start with its item {entry.item!r}")
        if entry.id in self._checks:
            raise ValueError(f"a check named {entry.id!r} is already registered")
        self._checks[entry.id] = entry
        return entry

    def __iter__(self) -> Iterator[Check]:
        return iter(self._checks.values())

    def __len__(self) -> int:
        return len(self._checks)

    def get(self, check_id: str) -> Check:
        return self._checks[check_id]

    def for_item(self, item_id: str) -> list[Check]:
        return [c for c in self._checks.values() if c.item == item_id]


registry = Registry()


def check(
    check_id: str,
    *,
    item: str,
    title: str,
    severity: Severity = Severity.REQUIRED,
    needs: tuple[str, ...] = (),
    twin_only: bool = False,
    static: bool = False,
) -> Callable[[CheckFunction], CheckFunction]:
    """Register the decorated function as a check in the global registry (``static``: it reads the team's files,
    never an API)."""

    def decorate(func: CheckFunction) -> CheckFunction:
        registry.register(Check(check_id, item, title, func, severity, needs, twin_only, static=static))
        return func

    return decorate
