"""Console output of ``bluum-readiness run``: one line per finished check, then a summary table.

Rich (colours, a boxed table) on a terminal; plain ASCII text when the output is not a TTY or ``CI`` is set.
Registered as a pytest plugin object: it implements the suite's ``pytest_readiness_check`` and
``pytest_readiness_report`` hooks. Every line is scrubbed of the run's secrets before it is printed, and its control
characters are shown (``report.printable``), never sent to the terminal.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

import pytest
from rich import box
from rich.console import Console
from rich.table import Table

from bluum_readiness.config import RunConfig
from bluum_readiness.failures import Status
from bluum_readiness.redaction import Secrets
from bluum_readiness.report import provenance
from bluum_readiness.report.causes import count_line
from bluum_readiness.report.printable import shown
from bluum_readiness.report.verdict import Verdict
from bluum_readiness.suite.identity import is_reference
from bluum_readiness.suite.results import CheckResult, RunReport

__all__ = ["ConsoleReporter"]

_VERDICT_STYLE: dict[str, str] = {
    Verdict.READY: "bold green",
    Verdict.PASSED: "bold yellow",
    Verdict.NOT_READY: "bold red",
    Verdict.INTERRUPTED: "bold magenta",
}
_MARK: dict[str, tuple[str, str, str]] = {
    Status.PASSED: ("✓", "PASS", "green"),
    Status.FAILED: ("✗", "FAIL", "red"),
    Status.BROKEN: ("!", "BROKEN", "magenta"),
    Status.NOT_VERIFIABLE: ("?", "N/V", "yellow"),
    Status.SKIPPED: ("-", "SKIP", "dim"),
    Status.NOT_APPLICABLE: ("∅", "N/A", "dim"),
}


class ConsoleReporter:
    """:param secrets: the run's secrets (``Run.secrets``): every line is scrubbed of them as it is printed."""

    def __init__(self, stream: TextIO, *, secrets: Secrets, plain: bool | None = None) -> None:
        if plain is None:
            plain = not stream.isatty() or bool(os.environ.get("CI"))
        self.plain = plain
        self.console = Console(
            file=stream,
            force_terminal=not plain,
            no_color=plain,
            highlight=False,
            soft_wrap=True,
            width=120 if plain else None,
        )
        self.secrets = secrets
        self.report: RunReport | None = None
        self.config: pytest.Config | None = None

    def _print(self, text: str, style: str | None = None) -> None:
        # control characters from the integration (a coloured error message) shown, never sent to the terminal
        self.console.print(self.secrets.scrub(shown(text)), style=None if self.plain else style, markup=False)

    def _mark(self, status: str) -> tuple[str, str]:
        symbol, word, style = _MARK.get(status, ("?", status.upper(), "white"))
        return (f"{word:<6}" if self.plain else symbol), style

    def start(self, config: RunConfig) -> None:
        target = "the embedded sandbox twin" if config.embedded else config.target
        only = f"; items: {', '.join(config.only)}" if config.only else ""
        workers = f"; {config.workers} workers" if config.workers else ""
        what = (
            f"{provenance.DEMONSTRATION}, {config.integration}"
            if is_reference(config.integration)
            else config.integration
        )
        self._print(f"bluum-readiness: checking {what} against {target}{only}{workers}", "bold")

    # -- pytest hooks ---------------------------------------------------------------------------------------

    def pytest_configure(self, config: pytest.Config) -> None:
        self.config = config

    def pytest_readiness_check(self, config: pytest.Config, result: CheckResult) -> None:
        advisory = result.status == Status.FAILED and result.severity != "required"
        mark, style = ((f"{'WARN':<6}" if self.plain else "△"), "yellow") if advisory else self._mark(result.status)
        line = f"  {mark} {result.item:<20} {result.id} — {result.title} ({result.duration_s:.1f}s)"
        self._print(line, style)
        if result.status in (Status.FAILED, Status.BROKEN, Status.NOT_VERIFIABLE) and result.message:
            self._print(f"      {result.message[:400]}", "dim" if result.status == Status.NOT_VERIFIABLE else style)

    def pytest_readiness_report(self, config: pytest.Config, report: RunReport) -> None:
        self.report = report

    # -- the end --------------------------------------------------------------------------------------------

    def _causes(self, report: RunReport) -> None:
        """The failures, one cause at a time: a defect that fails five checks reads as one line, with what each
        check observed and the fix once; broken checks (the suite's own problems) after them."""
        deciding = [c for item in report.failed_items for c in item.deciding()]
        by_id = {c.id: c for c in deciding}
        groups = [g for g in report.causes if not g.advisory]
        if groups:
            self._print(f"Causes ({count_line(groups)}):", "bold")
        for group in groups:
            self._print(f"FAILED {group.line()}", "red")
            fixes: list[str] = []
            for check_id in group.checks:
                check = by_id.get(check_id)
                if check is None:
                    continue
                self._print(f"  {check.id}: {check.observed or check.message or ''}")
                if check.fix and check.fix not in fixes:
                    fixes.append(check.fix)
            for fix in fixes:
                self._print(f"  fix: {fix}")
        for check in deciding:
            if check.status == Status.BROKEN:
                self._print(f"BROKEN {check.id}: {check.message or ''}", "red")

    def _table(self, report: RunReport, document: dict[str, Any], ids: Sequence[str], *, rehearsal: bool) -> Table:
        table = Table(box=box.ASCII if self.plain else box.ROUNDED)
        for column in ("item", "status", "checks", "proven", "note"):
            table.add_column(column)
        recorded = {i["id"]: i for i in document["items"]}
        for item in report.items:
            if item.id not in ids:
                continue
            passed = sum(1 for c in item.checks if c.status == Status.PASSED)
            counted = f"{passed}/{len(item.checks)} passed" if item.checks else ""
            note = item.note or ""
            if item.status == Status.SKIPPED:
                note = item.note or "skipped"
            elif item.id in report.items_without_checks:
                note = "no checks yet (not verified, not counted)"
            elif item.status in (Status.FAILED, Status.NOT_VERIFIABLE):
                note = ", ".join(c.id for c in item.deciding())  # only what decided the item
            status = str(item.status)
            if rehearsal and item.status in (Status.PASSED, Status.FAILED):
                status = "rehearsed" if item.status == Status.PASSED else "rehearsal failed"
            where = provenance.short(document, recorded[item.id]) if item.status != Status.SKIPPED else ""
            _, style = self._mark(item.status)
            table.add_row(item.id, status, counted, where, note, style=None if self.plain else style)
        return table

    def summary(
        self, report: RunReport, json_path: Path, files: Sequence[Path] = (), email_note: str | None = None
    ) -> None:
        document = report.to_dict()
        split = document["phases"]
        self.console.print()
        for key, title in (("readiness", "Readiness (the production-access request confirms these)"),
                           ("cutover", "Cut-over rehearsal (before access; not confirmed)"
                            if split["cutover"]["rehearsal"] else "Cut-over (against production)")):  # fmt: skip
            self._print(f"{title}: {split[key]['line']}", "bold")
            self.console.print(self._table(report, document, split[key]["items"], rehearsal=key == "cutover"
                                           and split["cutover"]["rehearsal"]))  # fmt: skip
        self._print(f"Proven - {provenance.LEGEND}.", "dim")
        self._causes(report)
        advisory = [c for i in report.items for c in i.checks if c.status == Status.FAILED and c.severity != "required"]
        for check in advisory:
            self._print(f"ADVISORY {check.id} (does not fail its item): {check.message or ''}", "yellow")
        unchecked = [i.id for i in report.items if i.id in report.items_without_checks and i.status != Status.SKIPPED]
        if unchecked:
            self._print("Not verified by this version (no checks): " + ", ".join(unchecked), "yellow")
        partial = [
            i.id for i in report.items if i.status == Status.NOT_VERIFIABLE and i.id not in report.items_without_checks
        ]
        if partial:
            self._print(
                "Not fully verified (some checks could not judge; see the table): " + ", ".join(partial), "yellow"
            )
        limited = (document.get("target") or {}).get("rate_limited")
        if limited:
            self._print(
                f"The target answered {limited['refusals']} request(s) 429 although the run kept under its rate limit: "
                "another client is using this key pair (a second CI job, a colleague's run). The run slowed down (to "
                f"{limited['slowest_per_s']:g} requests/s at its slowest); what the refusals kept it from judging is "
                "not verifiable. Give each pipeline a key pair of its own for a faster, complete run.",
                "yellow",
            )
        if report.verdict == "interrupted":
            self._print(
                "The run was interrupted: readiness.json records the checks that finished; no email was written. "
                "Run it again to the end for a verdict.",
                "magenta",
            )
        elif report.verdict == Verdict.PASSED:
            self._print(
                f"Not READY: READY means all {len(split['readiness']['items'])} readiness items ran and passed "
                "(what the production-access email confirms); this run proves less.",
                "yellow",
            )
        self._print(f"Verdict: {report.verdict_line}", _VERDICT_STYLE.get(report.verdict, "bold"))
        if report.verdict != "interrupted" and not report.demonstration:
            assessed = provenance.request(document)
            if assessed.send_ready:
                self._print("Production-access request: ready to send (email.eml, with the [company] details)")
            else:
                self._print("Production-access request: a DRAFT, not to be sent yet:", "yellow")
                for missing in assessed.missing:
                    self._print(f"  - {missing}", "yellow")
        self._print(f"readiness.json: {json_path}")
        for path in files:
            self._print(f"{path.name}{'/' if path.is_dir() else ''}: {path.resolve()}")
        if email_note:
            self._print(email_note, "yellow")
