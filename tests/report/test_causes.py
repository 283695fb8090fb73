"""Every output groups findings by cause, counts causes beside findings, and never counts an advisory as a failure."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from bluum_readiness.report.html import render_html
from bluum_readiness.report.junit import render_junit
from bluum_readiness.report.markdown import render_markdown
from bluum_readiness.suite.results import CheckResult, build_report, write_json
from tests.report.conftest import EVERY_ITEM, metadata


def _record(tmp_path: Path) -> dict:
    """A client with no retries at all (five findings, one cause), a swallowed secret elsewhere, and an advisory."""
    checks = [CheckResult(f"t::{i}", i, f"{i}.ok", "ok") for i in EVERY_ITEM]
    for name in ("5xx-retried", "429-jitter", "timeout-retried"):
        checks.append(CheckResult(f"t::{name}", "error-handling", f"error-handling.{name}", name, status="failed",
                                  observed=f"{name}: 1 attempt", fix="retry", cause="no-retries"))  # fmt: skip
    checks.append(CheckResult("t::s", "error-handling", "error-handling.secret-never-logged", "secret",
                              status="failed", cause="secret-exposed"))  # fmt: skip
    checks.append(CheckResult("t::o", "idempotency", "idempotency.orders-keyed", "Orders carry a key",
                              status="failed", severity="advisory"))  # fmt: skip
    report = build_report(checks, selected=EVERY_ITEM, with_checks=EVERY_ITEM, metadata=metadata())
    return json.loads(write_json(report, tmp_path).read_text())


def test_markdown_and_html_list_each_cause_once_with_the_checks_it_fails(tmp_path):
    document = _record(tmp_path)
    assert document["verdict_line"] == "NOT READY (failed: error-handling; 4 findings from 2 causes; 1 advisory)"
    markdown = render_markdown(document)
    assert "## Causes (4 findings from 2 causes; 1 advisory)" in markdown
    assert ("- **No retry where one was due** — fails `error-handling.429-jitter`, `error-handling.5xx-retried`, "
            "`error-handling.timeout-retried`: ") in markdown  # fmt: skip
    assert "- **Orders carry a key** — flags (advisory) `idempotency.orders-keyed`" in markdown
    assert "Cause: **No retry where one was due** (`no-retries`)" in markdown
    assert "1 advisory" in markdown.split("- Checks: ")[1].splitlines()[0]
    page = render_html(document)
    assert page.count('id="cause-no-retries"') == 1 and 'href="#cause-no-retries"' in page


def test_junit_names_the_cause_and_never_fails_a_build_on_an_advisory(tmp_path):
    root = ET.fromstring(render_junit(_record(tmp_path)))
    assert root.get("failures") == "4"
    advisory = root.find(".//testcase[@name='idempotency.orders-keyed']")
    assert advisory is not None and advisory.find("failure") is None
    assert "advisory finding" in (advisory.findtext("system-err") or "")
    jitter = root.find(".//testcase[@name='error-handling.429-jitter']")
    assert jitter is not None and jitter.find("properties/property[@name='cause']").get("value") == "no-retries"  # type: ignore[union-attr]


def test_the_email_lists_advisory_findings_as_notes_beyond_the_checklist(tmp_path):
    from bluum_readiness.report.mail import email_text
    from tests.report.conftest import COMPANY

    _, text = email_text(_record(tmp_path), COMPANY)
    assert "Notes beyond the checklist (advisory, not part of the confirmation):" in text
    assert "- Orders carry a key — flags idempotency.orders-keyed" in text
