"""The catalogues: the items of Bluum's readiness checklist (``checklist.toml``) and the causes a failed check can
name (``causes.toml``)."""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

from bluum_readiness.errors import ConfigError

__all__ = ["CUTOVER", "READINESS", "Cause", "ChecklistItem", "cause", "causes", "item", "items", "phase_items"]

READINESS = "readiness"  # confirmed in the production-access request
CUTOVER = "cut-over"  # done when switching to production; rehearsed before


@dataclass(frozen=True)
class ChecklistItem:
    id: str
    kind: str  # "readiness" | "cut-over"
    title: str
    asks: str


@cache
def items() -> tuple[ChecklistItem, ...]:
    """Every checklist item, in checklist order."""
    data = tomllib.loads(resources.files(__package__).joinpath("checklist.toml").read_text("utf-8"))
    return tuple(ChecklistItem(**entry) for entry in data["item"])


def item(item_id: str) -> ChecklistItem:
    """The item with this id, or a ConfigError naming the closest valid id."""
    for candidate in items():
        if candidate.id == item_id:
            return candidate
    ids = [i.id for i in items()]
    close = difflib.get_close_matches(item_id, ids, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ConfigError(f"unknown checklist item {item_id!r}.{hint} Valid items: {', '.join(ids)}")


@dataclass(frozen=True)
class Cause:
    """Why an integration failed a check, in words a reviewer groups findings by (``causes.toml``)."""

    id: str
    title: str
    explains: str


@cache
def causes() -> dict[str, Cause]:
    """Every cause by id, in catalogue order."""
    data = tomllib.loads(resources.files(__package__).joinpath("causes.toml").read_text("utf-8"))
    return {entry["id"]: Cause(**entry) for entry in data["cause"]}


def cause(cause_id: str) -> Cause:
    """The cause with this id (a KeyError naming the valid ids for an unknown one: a bug in a judge)."""
    found = causes().get(cause_id)
    if found is None:
        raise KeyError(f"unknown cause {cause_id!r}; the catalogue has: {', '.join(causes())}")
    return found


def phase_items(kind: str) -> tuple[str, ...]:
    """The ids of one phase's items (``READINESS`` or ``CUTOVER``), in checklist order."""
    return tuple(i.id for i in items() if i.kind == kind)
