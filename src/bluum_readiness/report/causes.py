"""Findings grouped by cause: one defect of the integration, however many checks it fails, reads as one cause.

Computed from a record's items alone (readiness.json or the run's own), so every output — console, HTML, PDF,
Markdown, JUnit, the email — groups the same way and a re-render gives the same groups. A finding whose check names
no catalogued cause stands as a group of its own, titled by its check. Advisory findings are grouped apart: they
never count as failures.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bluum_readiness.catalog import causes as catalogue

__all__ = ["CauseGroup", "by_cause", "count_line"]


@dataclass(frozen=True)
class CauseGroup:
    """One cause and the checks it failed. ``id`` is the catalogue's, or None for a finding that names none."""

    id: str | None
    title: str
    explains: str
    checks: tuple[str, ...]
    advisory: bool = False

    def line(self) -> str:
        """ "No retry where one was due — fails error-handling.5xx-retried, error-handling.429-jitter"."""
        verb = "flags" if self.advisory else "fails"
        return f"{self.title} — {verb} {', '.join(self.checks)}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "explains": self.explains,
            "checks": list(self.checks),
            "advisory": self.advisory,
        }


def by_cause(items: Iterable[Mapping[str, Any]]) -> list[CauseGroup]:
    """The failed checks of ``items`` (readiness.json's item dicts) grouped by cause: required findings first, in
    the order their first check appears; then advisory ones."""
    known = catalogue()
    groups: dict[tuple[bool, str], list[str]] = {}
    titles: dict[tuple[bool, str], tuple[str | None, str, str]] = {}
    for item in items:
        for check in item.get("checks", []):
            if check.get("status") != "failed":
                continue
            advisory = check.get("severity") == "advisory"
            cause = check.get("cause")
            if cause in known:
                key = (advisory, cause)
                titles[key] = (cause, known[cause].title, known[cause].explains)
            else:  # a check that names no cause (not yet judged from observations): its own group
                key = (advisory, f"check:{check['id']}")
                titles[key] = (None, check.get("title") or check["id"], check.get("observed") or "")
            groups.setdefault(key, []).append(check["id"])
    ordered = sorted(groups, key=lambda key: key[0])  # stable: required first, each in order of appearance
    return [CauseGroup(*titles[key], tuple(groups[key]), key[0]) for key in ordered]


def count_line(groups: Iterable[CauseGroup]) -> str:
    """ "5 findings from 1 cause" (required findings only; "" when there are none), with advisories appended."""
    listed = list(groups)
    required = [g for g in listed if not g.advisory]
    advisory = sum(len(g.checks) for g in listed if g.advisory)
    parts = []
    if required:
        findings = sum(len(g.checks) for g in required)
        plural = "s" if len(required) != 1 else ""
        parts.append(f"{findings} finding{'s' if findings != 1 else ''} from {len(required)} cause{plural}")
    if advisory:
        parts.append(f"{advisory} advisory")
    return "; ".join(parts)
