"""An item's reason names the checks that decided its status, and only those: an advisory finding beside a
required one did not fail the item, and an advisory check that could not judge did not leave it unverified."""

from __future__ import annotations

import io
import json
from email import message_from_bytes, policy
from pathlib import Path

from bluum_readiness.catalog import items as checklist_items
from bluum_readiness.cli.console import ConsoleReporter
from bluum_readiness.redaction import Secrets
from bluum_readiness.report import model
from bluum_readiness.report.render import render_all
from bluum_readiness.suite.results import CheckResult, RunReport, build_report, write_json
from tests.report.conftest import COMPANY, metadata

EVERY = [i.id for i in checklist_items()]


def _report(*checks: CheckResult) -> RunReport:
    return build_report(checks, selected=["idempotency"], with_checks=EVERY, metadata=metadata())


def _check(check_id: str, status: str, severity: str = "required", message: str | None = None) -> CheckResult:
    return CheckResult(f"t::{check_id}", "idempotency", check_id, check_id, status, severity, message)


def _item(report: RunReport) -> dict[str, object]:
    found: dict[str, object] = next(i for i in report.to_dict()["items"] if i["id"] == "idempotency")
    return found


def test_a_failed_item_names_its_required_failures_not_an_advisory_one() -> None:
    report = _report(
        _check("idempotency.key-on-every-transfer", "failed", message="no Idempotency-Key"),
        _check("idempotency.orders-keyed", "failed", "advisory", message="orders without a key"),
        _check("idempotency.same-key-on-retry", "passed"),
    )
    item = _item(report)
    assert item["status"] == "failed"
    assert item["reason"] == "failed: idempotency.key-on-every-transfer"
    assert item["decided_by"] == ["idempotency.key-on-every-transfer"]


def test_a_broken_advisory_check_still_decides_a_failure() -> None:
    """A harness problem fails the item whatever the check's severity, so it is named."""
    item = _item(_report(_check("idempotency.orders-keyed", "broken", "advisory", message="harness error")))
    assert item["status"] == "failed" and item["reason"] == "failed: idempotency.orders-keyed"


def test_a_not_verifiable_item_names_only_the_required_checks_that_could_not_judge() -> None:
    report = _report(
        _check("idempotency.exactly-once", "not_verifiable", message="needs the twin's sandbox controls"),
        _check("idempotency.orders-keyed", "not_verifiable", "advisory", message="the adapter places no orders"),
        _check("idempotency.same-key-on-retry", "passed"),
    )
    item = _item(report)
    assert item["status"] == "not_verifiable"
    assert item["reason"] == "not verifiable: needs the twin's sandbox controls"
    assert item["decided_by"] == ["idempotency.exactly-once"]


def test_an_advisory_check_that_cannot_judge_leaves_a_passed_item_without_a_reason() -> None:
    report = _report(
        _check("idempotency.orders-keyed", "not_verifiable", "advisory", message="no orders"),
        _check("idempotency.same-key-on-retry", "passed"),
    )
    item = _item(report)
    assert item["status"] == "passed" and "reason" not in item and "decided_by" not in item


def test_the_console_table_and_the_email_name_only_what_decided_the_item(tmp_path: Path) -> None:
    report = _report(
        _check("idempotency.key-on-every-transfer", "failed", message="no Idempotency-Key"),
        _check("idempotency.orders-keyed", "failed", "advisory", message="orders without a key"),
    )
    stream = io.StringIO()
    ConsoleReporter(stream, secrets=Secrets(), plain=True).summary(report, tmp_path / "readiness.json")
    row = next(line for line in stream.getvalue().splitlines() if line.startswith("| idempotency "))
    assert "idempotency.key-on-every-transfer" in row and "orders-keyed" not in row
    assert "FAILED idempotency.orders-keyed" not in stream.getvalue()
    assert "ADVISORY idempotency.orders-keyed (does not fail its item)" in stream.getvalue()

    document = model.load_report(write_json(report, tmp_path))
    render_all(document, tmp_path, COMPANY)
    message = message_from_bytes((tmp_path / "email.eml").read_bytes(), policy=policy.default)
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    line = next(x for x in body.get_content().splitlines() if "(idempotency): FAILED" in x)
    assert "idempotency.key-on-every-transfer" in line and "orders-keyed" not in line
    markdown = (tmp_path / "readiness.md").read_text()
    row = next(x for x in markdown.splitlines() if "(`idempotency`)" in x)
    assert "failed: idempotency.key-on-every-transfer |" in row
    assert json.loads((tmp_path / "readiness.json").read_text())["schema_version"] == "3"
