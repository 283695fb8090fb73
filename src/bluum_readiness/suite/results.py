"""The neutral model of a run: one ``CheckResult`` per test, rolled up into items and a verdict (``RunReport``).

The pytest plugin only records ``CheckResult``s; this module rolls them up and ``write_json`` renders
readiness.json. The rules of items and of the verdict are ``report.verdict``'s (also in docs/cli.md):

- a check is ``passed``, ``failed`` (a conformance finding), ``broken`` (a harness problem), ``not_verifiable``
  (the check could not judge: a missing capability, or a twin-only check against a real environment) or
  ``skipped``;
- a *partial* run (pytest on some files, without ``--only`` or ``--checklist-complete``) reports the items it
  did not touch as ``skipped``;
- an item is ``failed`` if a *required* check failed or any check broke; else ``passed`` if every required check
  passed (advisory checks never fail an item); else ``not_verifiable``; its ``reason`` names only the checks that
  decided that. Items without checks in this version are ``not_verifiable`` and listed in
  ``items_without_checks``; items not selected (``--only``) are ``skipped``;
- the verdict is ``ready`` iff every *readiness* item (the checklist's first phase) was selected and passed and no
  selected item failed; ``passed`` if nothing failed and a check passed but not every readiness item is proven;
  ``not_ready`` if an item failed or nothing passed; ``interrupted`` if the run was stopped (then a selected item
  whose checks did not all finish is ``skipped`` "not finished", never "no test collected").
"""

from __future__ import annotations

import json
import os
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bluum_readiness.catalog import CUTOVER, READINESS, ChecklistItem, phase_items
from bluum_readiness.catalog import items as checklist_items
from bluum_readiness.failures import Status
from bluum_readiness.redaction import scrub
from bluum_readiness.report import provenance
from bluum_readiness.report import verdict as rules
from bluum_readiness.report.causes import CauseGroup, by_cause, count_line
from bluum_readiness.report.digest import evidence_digest
from bluum_readiness.report.printable import well_formed_data

__all__ = [
    "SCHEMA_VERSION",
    "CheckResult",
    "ItemResult",
    "RunReport",
    "build_report",
    "environment_of",
    "phase_ids",
    "write_json",
]

SCHEMA_VERSION = "3"
CHECK_STATUSES = (
    Status.PASSED,
    Status.FAILED,
    Status.BROKEN,
    Status.NOT_VERIFIABLE,
    Status.SKIPPED,
    Status.NOT_APPLICABLE,
)
_RANK = {
    status: rank
    for rank, status in enumerate(
        (Status.PASSED, Status.NOT_APPLICABLE, Status.SKIPPED, Status.NOT_VERIFIABLE, Status.FAILED, Status.BROKEN)
    )
}


@dataclass
class CheckResult:
    """One test's outcome, as the plugin recorded it (serialisable: shipped from xdist workers as a dict)."""

    nodeid: str
    item: str
    id: str
    title: str
    status: Status = Status.PASSED
    severity: str = "required"
    message: str | None = None
    expected: str | None = None
    observed: str | None = None
    fix: str | None = None
    cause: str | None = None  # the id of the finding's cause (catalog/causes.toml), when the check names one
    evidence: dict[str, Any] = field(default_factory=dict)
    started: float | None = None
    duration_s: float = 0.0
    provenance: dict[str, Any] | None = None  # where it was proven (report.provenance), stamped by the listener
    runs: list[dict[str, Any]] | None = None  # a combined record's outcome of the check in each run (report.combine)

    def merge(self, status: Status, **details: Any) -> None:
        """Fold one phase's outcome in: the worst status wins, its details with it."""
        if _RANK[status] > _RANK[self.status]:
            self.status = status
            for key, value in details.items():
                if value is not None:
                    setattr(self, key, value)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckResult:
        return cls(**{**data, "status": Status(data.get("status", Status.PASSED))})

    def for_report(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "title": self.title, "status": self.status, "severity": self.severity}
        for key in ("message", "expected", "observed", "fix", "cause"):
            value = getattr(self, key)
            if value:
                out[key] = value
        if self.status != Status.PASSED and self.message:
            out["reason"] = self.message
        if self.evidence:
            out["evidence"] = self.evidence
        out["duration_s"] = round(self.duration_s, 3)
        out["test"] = self.nodeid
        if self.provenance:
            out["provenance"] = self.provenance
        if self.runs:
            out["runs"] = self.runs
        return out


@dataclass
class ItemResult:
    id: str
    title: str
    kind: str
    status: str
    checks: list[CheckResult] = field(default_factory=list)
    note: str | None = None

    def for_report(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "title": self.title, "kind": self.kind, "status": self.status}
        sources = {
            (c.provenance["source"], c.provenance.get("target")): c.provenance
            for c in self.checks
            if c.provenance and c.status != Status.SKIPPED
        }
        out["provenance"] = sorted(
            sources.values(), key=lambda p: (provenance.SOURCES.index(p["source"]), str(p.get("target")))
        )
        if self.note:
            out["note"] = self.note
        if self.status != Status.PASSED:
            out["reason"] = self.reason()
            out["decided_by"] = [c.id for c in self.deciding()]
        out["checks"] = [c.for_report() for c in self.checks]
        return out

    def deciding(self) -> list[CheckResult]:
        """The checks that gave the item its status (none when passed or skipped): required failures and broken
        checks of a failed item, the considered checks that could not judge of a not-verifiable one."""
        ids = set(rules.decided_by(self.status, [(c.id, c.status, c.severity) for c in self.checks]))
        return [c for c in self.checks if c.id in ids]

    def reason(self) -> str:
        """Why the item is not passed: the note, or the checks that decided its status (and only those)."""
        if self.note:
            return self.note
        if self.status == Status.FAILED:
            return "failed: " + ", ".join(c.id for c in self.deciding())
        unjudged = self.deciding()
        if not unjudged:
            return self.status.replace("_", " ")
        reasons = {c.message for c in unjudged if c.message}
        if len(reasons) == 1:
            return f"not verifiable: {reasons.pop()}"
        named = ", ".join(c.id for c in unjudged[:3]) + (", ..." if len(unjudged) > 3 else "")
        return f"not verifiable: {len(unjudged)} checks could not judge ({named})"


@dataclass
class RunReport:
    verdict: str
    items: list[ItemResult]
    items_without_checks: list[str]
    metadata: dict[str, Any]
    interruption: dict[str, Any] | None = None  # {"signal": "SIGINT", "checks_finished": n} when interrupted

    @property
    def coverage(self) -> rules.Coverage:
        return rules.coverage((i.id, i.status) for i in self.items)

    @property
    def phases(self) -> rules.PhaseIds:
        """The items of each phase; the cut-over is a rehearsal unless the run was against production."""
        target = _with_environment(self.metadata.get("target")) or {}
        return phase_ids(rehearsal=target.get("environment") != "production")

    @property
    def demonstration(self) -> bool:
        return bool((self.metadata.get("integration_identity") or {}).get("demonstration"))

    @property
    def verdict_line(self) -> str:
        """``READY (all 5 readiness items passed; cut-over rehearsal: 3 of 3 items passed)``, … (``report.verdict``);
        a demonstration says so."""
        stopped = self.interruption or {}
        line = rules.phased_headline(
            self.verdict,
            self.coverage,
            self.phases,
            signal=stopped.get("signal"),
            checks_finished=stopped.get("checks_finished"),
            findings=count_line(self.causes),
        )
        return f"{line} - {provenance.DEMONSTRATION}" if self.demonstration else line

    def phases_dict(self) -> dict[str, Any]:
        phases, cover = self.phases, self.coverage
        out: dict[str, dict[str, Any]] = {}
        for key, ids, name in (
            ("readiness", phases.readiness, "readiness"),
            ("cutover", phases.cutover, rules.cutover_name(phases)),
        ):
            part = rules.phase_coverage(cover, ids)
            status = rules.phase_status(part) if self.verdict != "interrupted" else "interrupted"
            out[key] = {"items": list(ids), "status": status, "line": rules.phase_line(part, name=name)}
        out["cutover"]["rehearsal"] = phases.rehearsal
        return out

    @property
    def causes(self) -> list[CauseGroup]:
        """The findings grouped by cause (``report.causes``)."""
        return by_cause(i.for_report() for i in self.items)

    @property
    def failed_items(self) -> list[ItemResult]:
        return [i for i in self.items if i.status == Status.FAILED]

    @property
    def broken(self) -> list[CheckResult]:
        return [c for i in self.items for c in i.checks if c.status == Status.BROKEN]

    def counts(self) -> dict[str, int]:
        """Checks by status; an advisory finding is counted as ``advisory``, never as ``failed``."""
        found: dict[str, int] = {status: 0 for status in CHECK_STATUSES} | {"advisory": 0}
        for item in self.items:
            for check in item.checks:
                advisory = check.status == Status.FAILED and check.severity != "required"
                found["advisory" if advisory else check.status] += 1
        return found

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "verdict": self.verdict,
            "verdict_line": self.verdict_line,
            "coverage": self.coverage.to_dict(),
            **({"interruption": self.interruption} if self.interruption else {}),
            **self.metadata,
            "target": _with_environment(self.metadata.get("target")),
            "items_without_checks": self.items_without_checks,
            "phases": self.phases_dict(),
            "counts": self.counts(),
            "causes": [group.to_dict() for group in self.causes],
            "items": [i.for_report() for i in self.items],
        }


def phase_ids(*, rehearsal: bool = True) -> rules.PhaseIds:
    return rules.PhaseIds(phase_items(READINESS), phase_items(CUTOVER), rehearsal)


def environment_of(target: dict[str, Any]) -> str:
    """``embedded_twin``, ``sandbox`` or ``production`` from the target's mode and host; ``custom`` otherwise."""
    host = str(target.get("host") or "").lower()
    if target.get("mode") == "embedded":
        return "embedded_twin"
    if host.startswith("sandbox.") or ".sandbox." in host:
        return "sandbox"
    if host in ("api.bluumfinance.com", "bluumfinance.com") or host.endswith(".api.bluumfinance.com"):
        return "production"
    return "custom"


def _with_environment(target: Any) -> Any:
    if not isinstance(target, dict):
        return target
    return {**target, "environment": target.get("environment") or environment_of(target)}


def _item_status(checks: Sequence[CheckResult]) -> str:
    return rules.item_status([(c.id, c.status, c.severity) for c in checks])


def build_report(
    results: Iterable[CheckResult],
    *,
    selected: Sequence[str] | None,
    with_checks: Sequence[str],
    metadata: dict[str, Any],
    interrupted: str | None = None,
    expected: Mapping[str, Collection[str]] | None = None,
    deselected: Mapping[str, Collection[str]] | None = None,
    collected: Mapping[str, Collection[str]] | None = None,
) -> RunReport:
    """Roll results up into items and the verdict.

    :param selected: the item ids the run had to cover (None: a partial pytest run — items without results are
        reported skipped rather than missing).
    :param with_checks: the item ids that have checks in this version (the registry).
    :param interrupted: the signal that stopped the run (``SIGINT``, ``SIGTERM``), None if it ran to the end.
    :param expected: the check ids a complete run of each item has (the registry): an interrupted run keeps an
        item's status only when all of them finished, or when a finding already failed it.
    :param deselected: the checks of each item the run left out (``-k``, ``-m``, ``--deselect``, ``--lf``): such an
        item did not run in full, so it is skipped — never passed on the checks that ran — unless a finding failed it.
    :param collected: the checks of each item the run was to run: one with no result never ran (the run stopped
        early: ``-x``, ``--maxfail``), and its item did not run in full either. Nor did an item some of whose
        ``expected`` (suite) checks ran and others are missing (pytest given some of the suite's tests by path or
        node id).
    """
    by_item: dict[str, list[CheckResult]] = {}
    for result in results:
        by_item.setdefault(result.item, []).append(result)
    items: list[ItemResult] = []
    without: list[str] = []
    for entry in checklist_items():
        checks = sorted(by_item.get(entry.id, []), key=lambda c: c.id)
        chosen = entry.id in selected if selected is not None else bool(checks)
        if entry.id not in with_checks and not checks:
            without.append(entry.id)
            if chosen:
                placeholder = CheckResult(
                    nodeid="",
                    item=entry.id,
                    id=f"{entry.id}.no-checks-yet",
                    title="No checks for this item in this version",
                    status=Status.NOT_VERIFIABLE,
                    message="not implemented yet: this version of bluum-readiness has no checks for this item, "
                    "so it is not verified (and never reported as passed)",
                )
                items.append(ItemResult(entry.id, entry.title, entry.kind, Status.NOT_VERIFIABLE, [placeholder]))
            else:
                note = "not selected" if selected is not None else "no checks yet; not part of this partial run"
                items.append(ItemResult(entry.id, entry.title, entry.kind, Status.SKIPPED, note=note))
            continue
        if not chosen:
            items.append(ItemResult(entry.id, entry.title, entry.kind, Status.SKIPPED, note="not selected"))
            continue
        if interrupted is not None:
            items.append(_interrupted_item(entry, checks, interrupted, (expected or {}).get(entry.id, ())))
            continue
        ran = {c.id for c in checks}
        left_out = sorted(set((deselected or {}).get(entry.id, ())) - ran)
        unrun = sorted(set((collected or {}).get(entry.id, ())) - ran)
        suite = set((expected or {}).get(entry.id, ()))
        # the suite's own checks of the item that ran: any, and the others had to run too (pytest given some of the
        # suite's tests by path or node id); none (a team's own tests alone), and there is nothing to compare with
        absent = sorted(suite - ran - set(left_out) - set(unrun)) if suite & ran else []
        if left_out or unrun or absent:
            items.append(_partial_item(entry, checks, left_out, unrun, absent))
            continue
        if not checks:
            missing = CheckResult(
                nodeid="",
                item=entry.id,
                id=f"{entry.id}.tests-collected",
                title="The suite has tests for this item",
                status=Status.BROKEN,
                message=f"no test tagged @pytest.mark.checklist({entry.id!r}) was collected, though the item was "
                "selected: the suite folders are incomplete or a file failed to import (see pytest.log)",
            )
            checks = [missing]
        items.append(ItemResult(entry.id, entry.title, entry.kind, _item_status(checks), checks))
    any_passed = any(c.status == Status.PASSED for i in items if i.id not in without for c in i.checks)
    cover = rules.coverage((i.id, i.status) for i in items)
    verdict = rules.decide(
        cover, any_check_passed=any_passed, interrupted=interrupted is not None, required=phase_items(READINESS)
    )
    stopped = None
    if interrupted is not None:
        stopped = {"signal": interrupted, "checks_finished": sum(len(c) for c in by_item.values())}
    return RunReport(verdict, items, without, metadata, stopped)


def _partial_item(
    entry: ChecklistItem, checks: list[CheckResult], left_out: list[str], unrun: list[str], absent: list[str]
) -> ItemResult:
    """A selected item some of whose checks did not run — ``left_out`` by the run's selection, collected and
    ``unrun`` because the run stopped early, or ``absent``: suite checks pytest was not given: failed if a finding
    failed it, else skipped, with what ran shown. An item is passed only when every one of its checks ran."""
    status = _item_status(checks) if checks else Status.SKIPPED
    if status == Status.FAILED:
        return ItemResult(entry.id, entry.title, entry.kind, status, checks)
    why = []
    if left_out:
        why.append(f"{_some(left_out)} deselected (-k, -m, --deselect or --lf)")
    if unrun:
        why.append(f"{_some(unrun)} not run: the run stopped before them (-x, --maxfail)")
    if absent:
        why.append(f"{_some(absent)} not in this run (pytest was given some of the suite's tests)")
    total = len(checks) + len(left_out) + len(unrun) + len(absent)
    note = f"not run in full: {len(checks)} of its {total} checks ran; {'; '.join(why)}; run the item whole to judge it"
    return ItemResult(entry.id, entry.title, entry.kind, Status.SKIPPED, checks, note=note)


def _some(checks: list[str]) -> str:
    return ", ".join(checks[:3]) + (f" and {len(checks) - 3} more" if len(checks) > 3 else "")


def _interrupted_item(
    entry: ChecklistItem, checks: list[CheckResult], signal: str, expected: Collection[str]
) -> ItemResult:
    """A selected item of an interrupted run: failed if a finding already failed it, its status if every check
    it has finished, else ``skipped`` "not finished" (never "no test collected": the run stopped, nothing broke)."""
    status = _item_status(checks) if checks else Status.SKIPPED
    finished = {c.id for c in checks}
    if status == Status.FAILED or (expected and set(expected) <= finished):
        return ItemResult(entry.id, entry.title, entry.kind, status, checks)
    if not checks:
        note = f"not run: the run was interrupted ({signal}) before this item's checks started"
    else:
        of = f"{len(checks)} of this item's {len(expected)} checks" if expected else f"{len(checks)} of its checks"
        note = (
            f"not finished: the run was interrupted ({signal}) after {of}, and nothing has failed it so far; "
            "run it again to the end"
        )
    return ItemResult(entry.id, entry.title, entry.kind, Status.SKIPPED, checks, note=note)


# a Bluum key id: ``test_bluum_`` + 64 hex (sandbox). Not secret, but half of a pair and exactly what secret
# scanners (ours included) flag: outputs keep enough to recognise it (``test_bluum_d335e1…019b``), no more.
def write_json(report: RunReport, out_dir: str | Path, secrets: Iterable[str] = ()) -> Path:
    """Write ``readiness.json`` into ``out_dir`` (created), after a final scrub of every secret; a lone surrogate in a
    text (which UTF-8 cannot hold) is written as ``�`` (``printable.well_formed``)."""
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    scrubbed = well_formed_data(json.loads(scrub(json.dumps(report.to_dict(), default=str), secrets)))
    scrubbed["request"] = provenance.request(scrubbed).to_dict()
    scrubbed["digest"] = evidence_digest(scrubbed)  # over what is written, so a reader can recompute it
    text = json.dumps(scrubbed, indent=2, ensure_ascii=False)
    path = folder / "readiness.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(text + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path
