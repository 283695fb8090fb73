"""The verdict of a run and the one line that says it — the same words in readiness.json, the console and every
report (HTML, PDF, Markdown, JUnit, Allure, the email).

The checklist has two phases (``checklist.toml``'s ``kind``): the five *readiness* items Bluum asks a partner to
confirm before it requests production access, and the three *cut-over* items done when switching to production.
Before access exists the suite can only *rehearse* the cut-over (against the sandbox or the twin); the real smoke
test runs against production afterwards (``bluum-readiness smoke``).

Verdicts (readiness.json ``verdict``, schema version 3; docs/reports.md says why these four):

- ``ready``: every *readiness* item was selected and passed, and no selected item failed (a failed cut-over
  rehearsal is a failure too) — what the production-access email confirms;
- ``passed``: nothing failed and at least one check passed, but not every readiness item is proven: a subset ran
  (``--only``, ``--phase cutover``, a partial pytest run), or some items could not be judged (``not_verifiable``)
  or have no checks. When not even one item passed (the checks that passed sit in items that could not be judged
  as a whole), the word is NOT VERIFIED rather than PASSED;
- ``not_ready``: a selected item failed (a required check failed, or a check broke), or no check passed at all;
- ``interrupted``: the run was stopped (SIGINT, SIGTERM) before it finished: what finished is recorded, nothing
  is concluded.

Items (``item_status``): ``failed`` if a *required* check failed or any check broke (a harness problem); else
``passed`` if every required check passed (advisory checks never fail an item); else ``not_verifiable``; an item
whose checks were all skipped is ``skipped``. ``decided_by`` names the checks that gave a not-passed item its
status, and only those (an advisory finding next to a required one did not fail the item).

Exit codes of ``bluum-readiness run`` follow: 0 for ``ready`` and ``passed`` (no failure), 1 for ``not_ready``,
130 for ``interrupted``. Pure functions over plain tuples, so the writer (``suite/results.py``) and every reader
agree.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bluum_readiness.failures import Status

__all__ = [
    "VERDICTS",
    "WORDS",
    "Verdict",
    "Coverage",
    "PhaseIds",
    "coverage",
    "decide",
    "cutover_name",
    "decided_by",
    "headline",
    "item_status",
    "phase_coverage",
    "phase_line",
    "phase_status",
    "phased_headline",
    "word",
]


class Verdict(StrEnum):
    """A run's verdict (readiness.json ``verdict``): see the module docstring."""

    READY = "ready"
    PASSED = "passed"
    NOT_READY = "not_ready"
    INTERRUPTED = "interrupted"


VERDICTS = tuple(Verdict)
WORDS: dict[str, str] = {
    Verdict.READY: "READY",
    Verdict.PASSED: "PASSED",
    Verdict.NOT_READY: "NOT READY",
    Verdict.INTERRUPTED: "INTERRUPTED",
}
_NAMED = 3  # items named in a line before it says "and N more"


@dataclass(frozen=True)
class Coverage:
    """Which checklist items the run proved, by status: the facts behind the verdict line."""

    total: int
    passed: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()
    not_verified: tuple[str, ...] = ()
    not_run: tuple[str, ...] = ()
    not_applicable: tuple[str, ...] = ()  # declared unused by the team (webhooks): neither proven nor missing

    @property
    def settled(self) -> tuple[str, ...]:
        """The items that need nothing more: passed, or not applicable."""
        return self.passed + self.not_applicable

    def to_dict(self) -> dict[str, Any]:
        return {
            "items": self.total,
            "passed": list(self.passed),
            "failed": list(self.failed),
            "not_verified": list(self.not_verified),
            "not_run": list(self.not_run),
            **({"not_applicable": list(self.not_applicable)} if self.not_applicable else {}),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Coverage:
        return cls(
            int(data["items"]),
            tuple(data.get("passed", ())),
            tuple(data.get("failed", ())),
            tuple(data.get("not_verified", ())),
            tuple(data.get("not_run", ())),
            tuple(data.get("not_applicable", ())),
        )


Check = tuple[str, str, str]  # (check id, status, severity)


def _considered(checks: Sequence[Check]) -> list[Check]:
    """The checks an item is judged on: its required ones that ran, or (none required) every one that ran."""
    counted = (Status.SKIPPED, Status.NOT_APPLICABLE)  # not run, or not the team's concern: never judged on
    required = [c for c in checks if c[2] == "required" and c[1] not in counted]
    return required or [c for c in checks if c[1] not in counted]


def _decides_failure(check: Check) -> bool:
    return check[1] == Status.BROKEN or (check[1] == Status.FAILED and check[2] == "required")


def item_status(checks: Sequence[Check]) -> Status:
    """An item's status from its checks' (see the module docstring)."""
    if any(_decides_failure(c) for c in checks):
        return Status.FAILED
    considered = _considered(checks)
    if not considered:
        if any(c[1] == Status.NOT_APPLICABLE for c in checks):
            return Status.NOT_APPLICABLE  # every check of it is about what the team does not use
        return Status.SKIPPED
    if all(c[1] == Status.PASSED for c in considered):
        return Status.PASSED
    return Status.NOT_VERIFIABLE


def decided_by(status: str, checks: Sequence[Check]) -> list[str]:
    """The ids of the checks that made an item ``status``: its required failures and broken checks for a failed
    item, the considered checks that could not judge for a not-verifiable one; none for passed or skipped."""
    if status == Status.FAILED:
        return [c[0] for c in checks if _decides_failure(c)]
    if status == Status.NOT_VERIFIABLE:
        return [c[0] for c in _considered(checks) if c[1] == Status.NOT_VERIFIABLE]
    return []


_COVERAGE_KEY: dict[str, str] = {
    Status.PASSED: "passed",
    Status.FAILED: "failed",
    Status.BROKEN: "failed",
    Status.SKIPPED: "not_run",
    Status.NOT_APPLICABLE: "not_applicable",
}


def coverage(items: Iterable[tuple[str, str]]) -> Coverage:
    """The coverage of (item id, item status) pairs: failed and broken fail, skipped was not run."""
    found: dict[str, list[str]] = {"passed": [], "failed": [], "not_verified": [], "not_run": [], "not_applicable": []}
    total = 0
    for item_id, status in items:
        total += 1
        key = _COVERAGE_KEY.get(status, "not_verified")
        found[key].append(item_id)
    keys = ("passed", "failed", "not_verified", "not_run", "not_applicable")
    return Coverage(total, *(tuple(found[k]) for k in keys))


@dataclass(frozen=True)
class PhaseIds:
    """The item ids of each phase, in checklist order (``catalog.phases()``), and whether the cut-over ran as a
    rehearsal (before production access: against the sandbox or the twin) or for real (against production)."""

    readiness: tuple[str, ...]
    cutover: tuple[str, ...]
    rehearsal: bool = True


def decide(
    cover: Coverage, *, any_check_passed: bool, interrupted: bool = False, required: Sequence[str] | None = None
) -> Verdict:
    """The verdict (see the module docstring). ``required``: the items ``ready`` needs passed (the readiness
    phase); None: every item (schema version 2's rule)."""
    if interrupted:
        return Verdict.INTERRUPTED
    if cover.failed or not any_check_passed:
        return Verdict.NOT_READY
    needed = set(required) if required is not None else None
    if needed is None and cover.total and len(cover.settled) == cover.total and cover.passed:
        return Verdict.READY
    if needed and needed <= set(cover.settled) and set(cover.passed) & needed:
        return Verdict.READY
    return Verdict.PASSED


def _within(ids: tuple[str, ...], phase: Sequence[str]) -> tuple[str, ...]:
    return tuple(i for i in ids if i in phase)


def phase_coverage(cover: Coverage, phase: Sequence[str]) -> Coverage:
    """``cover`` restricted to the items of one phase."""
    return Coverage(
        len(phase),
        _within(cover.passed, phase),
        _within(cover.failed, phase),
        _within(cover.not_verified, phase),
        _within(cover.not_run, phase),
        _within(cover.not_applicable, phase),
    )


def phase_status(cover: Coverage) -> str:
    """A phase's status: ``failed`` (an item failed), ``passed`` (every item passed), ``not_run`` (no item ran),
    else ``incomplete`` (nothing failed, not every item proven)."""
    if cover.failed:
        return "failed"
    if cover.total and len(cover.settled) == cover.total and cover.passed:
        return "passed"
    if len(cover.not_run) == cover.total:
        return "not_run"
    return "incomplete"


def phase_line(cover: Coverage, *, name: str) -> str:
    """E.g. ``all 5 readiness items passed``, ``3 of 5 readiness items passed; not verified: webhooks; 1 not run``,
    ``cut-over rehearsal: 3 of 3 items passed``, ``cut-over not run``."""
    if len(cover.not_run) == cover.total:
        return f"{name} not run"
    if name == "readiness" and cover.total and len(cover.passed) == cover.total:
        return f"all {cover.total} readiness items passed"
    if name == "readiness" and cover.passed and len(cover.settled) == cover.total:
        return (
            f"all {len(cover.passed)} applicable readiness items passed; not applicable: {_names(cover.not_applicable)}"
        )
    label = (
        f"{len(cover.passed)} of {cover.total} readiness items passed"
        if name == "readiness"
        else (f"{name}: {len(cover.passed)} of {cover.total} items passed")
    )
    parts = [label]
    if cover.failed:
        parts.append(f"failed: {_names(cover.failed)}")
    if cover.not_verified:
        parts.append(f"not verified: {_names(cover.not_verified)}")
    if cover.not_applicable:
        parts.append(f"not applicable: {_names(cover.not_applicable)}")
    if cover.not_run:
        parts.append(f"{len(cover.not_run)} not run")
    return "; ".join(parts)


def cutover_name(phases: PhaseIds) -> str:
    return "cut-over rehearsal" if phases.rehearsal else "cut-over"


def phased_headline(
    verdict: str,
    cover: Coverage,
    phases: PhaseIds,
    *,
    signal: str | None = None,
    checks_finished: int | None = None,
    findings: str = "",
) -> str:
    """The verdict line of a schema-version-3 run, both phases in it: ``READY (all 5 readiness items passed;
    cut-over rehearsal: 3 of 3 items passed)``, ``NOT READY (failed: lifecycle; cut-over rehearsal failed:
    observability)``, ``PASSED (readiness not run; cut-over rehearsal: 3 of 3 items passed)``; ``findings`` ("5
    findings from 1 cause", ``report.causes.count_line``) is counted beside a NOT READY verdict's failed items."""
    if verdict == Verdict.INTERRUPTED:
        return headline(verdict, cover, signal=signal, checks_finished=checks_finished)
    readiness = phase_coverage(cover, phases.readiness)
    cutover = phase_coverage(cover, phases.cutover)
    name = cutover_name(phases)
    if verdict == Verdict.NOT_READY:
        if not cover.failed:
            return "NOT READY (nothing verified: no check passed)"
        parts = [f"failed: {_names(readiness.failed)}"] if readiness.failed else []
        if cutover.failed:
            parts.append(f"{name} failed: {_names(cutover.failed)}")
        if findings:
            parts.append(findings)
        return f"NOT READY ({'; '.join(parts)})"
    lines = f"{phase_line(readiness, name='readiness')}; {phase_line(cutover, name=name)}"
    if verdict == Verdict.READY:
        return f"READY ({lines})"
    head = "PASSED, NOT FULLY VERIFIED" if readiness.not_verified else "PASSED"
    if not cover.passed:
        head = "NOT VERIFIED"
    return f"{head} ({lines})"


def word(verdict: str, cover: Coverage | None = None) -> str:
    """READY, PASSED, NOT READY or INTERRUPTED — NOT VERIFIED for a ``passed`` run in which no item passed (a
    verdict this version does not know: upper-cased)."""
    if verdict == Verdict.PASSED and cover is not None and not cover.passed:
        return "NOT VERIFIED"
    return WORDS.get(verdict, verdict.replace("_", " ").upper())


def _names(ids: tuple[str, ...]) -> str:
    shown = ", ".join(ids[:_NAMED])
    return shown + (f" and {len(ids) - _NAMED} more" if len(ids) > _NAMED else "")


def headline(
    verdict: str,
    cover: Coverage,
    *,
    signal: str | None = None,
    checks_finished: int | None = None,
    findings: str = "",
) -> str:
    """The verdict line, e.g. ``PASSED (3 of 8 items passed; 5 not run)`` or
    ``PASSED, NOT FULLY VERIFIED (7 of 8 items passed; not verified: credentials)``; ``findings`` (e.g. "5 findings
    from 1 cause", ``report.causes.count_line``) is counted beside a NOT READY verdict's failed items."""
    counted = f"{len(cover.passed)} of {cover.total} items passed"
    if verdict == Verdict.READY:
        return f"READY (all {cover.total} items passed)"
    if verdict == Verdict.INTERRUPTED:
        by = f" by {signal}" if signal else ""
        done = f"{checks_finished} checks finished" if checks_finished is not None else "some checks finished"
        found = f"; failed so far: {_names(cover.failed)}" if cover.failed else ""
        return f"INTERRUPTED{by} ({done}{found}; no verdict: run it again to the end)"
    if verdict == Verdict.NOT_READY:
        if cover.failed:
            counted_findings = f"; {findings}" if findings else ""
            return f"NOT READY (failed: {_names(cover.failed)}{counted_findings})"
        return "NOT READY (nothing verified: no check passed)"
    parts = [counted]
    if cover.not_verified:
        parts.append(f"not verified: {_names(cover.not_verified)}")
    if cover.not_run:
        parts.append(f"{len(cover.not_run)} not run")
    head = "PASSED, NOT FULLY VERIFIED" if cover.not_verified else "PASSED"
    if not cover.passed:
        head = "NOT VERIFIED"  # no failure, but no item proven either: "PASSED (0 of 8 items passed)" would mislead
    return f"{head} ({'; '.join(parts)})"
