"""Conformance findings: the integration under test does not meet a checklist item ("failed").

Findings are ``AssertionError`` subclasses so pytest, allure and our reports show them as *failed*;
harness problems are ``bluum_readiness.errors.HarnessError`` (*broken*). A check that cannot run because
the integration lacks an optional capability raises ``NotVerifiable`` — never a pass.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

__all__ = ["ConformanceFailure", "NotVerifiable", "Severity"]


class Severity(StrEnum):
    REQUIRED = "required"  # fails the item and the verdict
    ADVISORY = "advisory"  # reported, does not fail the verdict


class ConformanceFailure(AssertionError):
    """The integration did something the checklist forbids, or failed to do what it requires.

    :param checklist_id: the checklist item (e.g. ``"idempotency"``).
    :param check: the check's stable id (e.g. ``"idempotency.same-key-on-retry"``).
    :param expected: what a ready integration does.
    :param observed: what this one did.
    :param evidence: structured evidence (recorded exchanges, timings…) for the report.
    :param fix: how to fix it, for someone who did not write the check.
    """

    def __init__(
        self,
        *,
        checklist_id: str,
        check: str,
        expected: str,
        observed: str,
        fix: str = "",
        evidence: dict[str, Any] | None = None,
        severity: Severity = Severity.REQUIRED,
    ) -> None:
        self.checklist_id = checklist_id
        self.check = check
        self.expected = expected
        self.observed = observed
        self.fix = fix
        self.evidence = evidence or {}
        self.severity = severity
        text = f"[{checklist_id}] {check}: expected {expected}; observed {observed}."
        if fix:
            text += f" Fix: {fix}"
        super().__init__(text)


class NotVerifiable(Exception):
    """The check cannot run against this integration or target (the reason says why); never a pass."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)
