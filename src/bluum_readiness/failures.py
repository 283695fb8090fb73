"""Conformance findings: the integration under test does not meet a checklist item ("failed").

Findings are ``AssertionError`` subclasses so pytest, allure and our reports show them as *failed*;
harness problems are ``bluum_readiness.errors.HarnessError`` (*broken*). A check that cannot run because
the integration lacks an optional capability raises ``NotVerifiable`` — never a pass; one about what the team
declared it does not use (webhooks) raises ``NotApplicable``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

__all__ = ["ConformanceFailure", "NotApplicable", "NotVerifiable", "Severity", "Status", "hidden_for_findings"]


class Severity(StrEnum):
    REQUIRED = "required"  # fails the item and the verdict
    ADVISORY = "advisory"  # reported, does not fail the verdict


class Status(StrEnum):
    """A check's (and an item's) outcome, the same word from the check to readiness.json and every report."""

    PASSED = "passed"  # the check ran and the integration met it
    FAILED = "failed"  # a conformance finding (``ConformanceFailure``)
    BROKEN = "broken"  # a harness problem (``HarnessError`` or anything else raised): never about the integration
    NOT_VERIFIABLE = "not_verifiable"  # the check could not judge (``NotVerifiable``): never a pass
    SKIPPED = "skipped"  # not run (not selected, or skipped by pytest)
    NOT_APPLICABLE = "not_applicable"  # the team declared it does not use what the check is about (``NotApplicable``)


class ConformanceFailure(AssertionError):
    """The integration did something the checklist forbids, or failed to do what it requires.

    A check raises it with what it observed; the runner (``Check.execute``) stamps which check, checklist item and
    severity it is from the registry, so a check never names itself (and cannot name itself wrongly).

    :param expected: what a ready integration does.
    :param observed: what this one did.
    :param fix: how to fix it, for someone who did not write the check.
    :param evidence: structured evidence (recorded exchanges, timings…) for the report.
    :param cause: the id of its cause in the catalogue (``catalog/causes.toml``): the reports group findings of one
        cause together ("" when the check does not name one).
    :param checklist_id, check, severity: set by ``stamp`` (a finding raised outside a registered check may give
        them itself).
    """

    def __init__(
        self,
        *,
        expected: str,
        observed: str,
        fix: str = "",
        evidence: dict[str, Any] | None = None,
        cause: str = "",
        checklist_id: str = "",
        check: str = "",
        severity: Severity = Severity.REQUIRED,
    ) -> None:
        self.expected = expected
        self.observed = observed
        self.fix = fix
        self.evidence = evidence or {}
        self.cause = cause
        self.stamp(check, checklist_id, severity)

    def stamp(self, check: str, checklist_id: str, severity: Severity) -> ConformanceFailure:
        """Say which check found it (its id, its item, its severity); the message names them."""
        self.check, self.checklist_id, self.severity = check, checklist_id, severity
        where = f"[{checklist_id}] {check}: " if check else ""
        observed = self.observed.rstrip()
        text = f"{where}expected {self.expected}; observed {observed}{'' if observed.endswith('.') else '.'}"
        if self.fix:
            text += f" Fix: {self.fix}"
        self.args = (text,)
        return self


class NotVerifiable(Exception):
    """The check cannot run against this integration or target (the reason says why); never a pass."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class NotApplicable(Exception):
    """What the check is about does not apply to this integration, as the team declared (``[webhooks] used = false``:
    it consumes no Bluum webhooks); the reason says so. Neither a pass nor a gap: its own status."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def hidden_for_findings(excinfo: Any) -> bool:
    """A frame of the suite's own machinery (running, stamping and judging a check) sets ``__tracebackhide__ =
    hidden_for_findings``: pytest then leaves it out of a finding's traceback in pytest.log, where the finding's own
    message says what went wrong (and formatting each frame reads and parses its source file, ~30-50 ms a failed
    check), but keeps it in the traceback of anything else — a harness error is debugged from its frames.
    ``excinfo`` is pytest's ``ExceptionInfo``."""
    return isinstance(excinfo.value, ConformanceFailure)
