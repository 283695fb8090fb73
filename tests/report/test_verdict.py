"""``ready`` means what the email confirms — the five readiness items selected and passed, and nothing failed; a
subset without a failure is ``passed`` ("PASSED (2 of 5 readiness items passed; …)"), a run with unverified items
says so in the verdict line, and an interrupted run is ``interrupted``. The cut-over phase is shown apart, as a
rehearsal. The same words in readiness.json and every output."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pypdf
import pytest

from bluum_readiness.catalog import items as checklist_items
from bluum_readiness.report import digest, model
from bluum_readiness.report.render import render_all
from bluum_readiness.suite.results import CheckResult, build_report
from tests.report.conftest import COMPANY

EVERY = [i.id for i in checklist_items()]


def _passing(*item_ids: str, **statuses: str) -> list[CheckResult]:
    return [
        CheckResult(f"t::{i}", i, f"{i}.x", "x", status=statuses.get(i.replace("-", "_"), "passed")) for i in item_ids
    ]


def _verdict(results: list[CheckResult], selected: list[str] | None, **kw: Any) -> tuple[str, str]:
    report = build_report(results, selected=selected, with_checks=EVERY, metadata={}, **kw)
    return report.verdict, report.verdict_line


READINESS = ["lifecycle", "idempotency", "error-handling", "webhooks", "credentials"]


def test_ready_needs_the_five_readiness_items_selected_and_passed() -> None:
    assert _verdict(_passing(*EVERY), EVERY) == (
        "ready",
        "READY (all 5 readiness items passed; cut-over rehearsal: 3 of 3 items passed)",
    )
    assert _verdict(_passing(*READINESS), READINESS) == (
        "ready",
        "READY (all 5 readiness items passed; cut-over rehearsal not run)",
    )


def test_a_failed_cut_over_rehearsal_is_not_ready_and_says_it_was_a_rehearsal() -> None:
    verdict, line = _verdict(_passing(*EVERY, observability="failed"), EVERY)
    assert (verdict, line) == (
        "not_ready",
        "NOT READY (cut-over rehearsal failed: observability; 1 finding from 1 cause)",
    )


def test_a_subset_without_a_failure_is_passed_not_ready() -> None:
    chosen = ["smoke-test", "idempotency", "webhooks"]
    assert _verdict(_passing(*chosen), chosen) == (
        "passed",
        "PASSED (2 of 5 readiness items passed; 3 not run; cut-over rehearsal: 1 of 3 items passed; 2 not run)",
    )
    cutover = ["smoke-test", "credential-rotation", "observability"]
    assert _verdict(_passing(*cutover), cutover) == (
        "passed",
        "PASSED (readiness not run; cut-over rehearsal: 3 of 3 items passed)",
    )


def test_a_partial_pytest_run_is_passed_not_ready() -> None:
    assert _verdict(_passing("smoke-test"), None)[0] == "passed"


def test_a_run_not_fully_verified_says_so_in_the_verdict_line() -> None:
    verdict, line = _verdict(_passing(*EVERY, credentials="not_verifiable"), EVERY)
    assert verdict == "passed"
    assert line == (
        "PASSED, NOT FULLY VERIFIED (4 of 5 readiness items passed; not verified: credentials; "
        "cut-over rehearsal: 3 of 3 items passed)"
    )


def test_no_item_proven_without_a_failure_is_not_verified_and_never_called_passed() -> None:
    """init's template adapter with --only credentials: two checks pass, the item as a whole cannot be judged."""
    half = [
        CheckResult("t::a", "credentials", "credentials.key-age", "a"),
        CheckResult("t::b", "credentials", "credentials.no-secrets-in-code", "b", status="not_verifiable"),
    ]
    report = build_report(half, selected=["credentials"], with_checks=EVERY, metadata={})
    assert report.verdict == "passed", "no failure: exit 0, as before"
    assert report.verdict_line == (
        "NOT VERIFIED (0 of 5 readiness items passed; not verified: credentials; 4 not run; cut-over rehearsal not run)"
    )
    assert model.verdict_word(report.to_dict()) == "NOT VERIFIED"


def test_a_failure_or_nothing_proven_is_not_ready() -> None:
    assert _verdict(_passing(*EVERY, webhooks="failed"), EVERY) == (
        "not_ready",
        "NOT READY (failed: webhooks; 1 finding from 1 cause)",
    )
    nothing = _passing("webhooks", webhooks="not_verifiable")
    assert _verdict(nothing, ["webhooks"]) == ("not_ready", "NOT READY (nothing verified: no check passed)")


@pytest.mark.parametrize("selected", [EVERY, None], ids=["complete", "partial"])
def test_an_item_is_never_passed_on_part_of_the_suites_checks(selected: list[str] | None) -> None:
    """pytest given some of the suite's tests by path or node id (one check per item) said READY: an item whose
    suite checks (the registry's) did not all run is not run in full — unless a finding failed it. Checks of a team's
    own tests (none of the registry's) are judged as they are."""
    expected = {i: [f"{i}.x"] for i in EVERY} | {"lifecycle": ["lifecycle.x", "lifecycle.y"]}
    results = _passing(*EVERY, webhooks="failed")
    results.append(CheckResult("t::own", "idempotency", "idempotency.teams-own", "own", status="passed"))
    expected["webhooks"] = ["webhooks.x", "webhooks.y"]
    report = build_report(results, selected=selected, with_checks=EVERY, metadata={}, expected=expected)
    items = {i.id: i for i in report.items}
    assert items["lifecycle"].status == "skipped", items["lifecycle"]
    assert "1 of its 2 checks ran" in items["lifecycle"].reason() and "lifecycle.y" in items["lifecycle"].reason()
    assert items["webhooks"].status == "failed", "a finding stands"
    assert items["idempotency"].status == "passed", "its suite check ran; a team's own check beside it is extra"
    assert report.verdict != "ready"


def test_an_interrupted_run_records_what_finished_and_never_says_tests_were_not_collected() -> None:
    expected = {i: [f"{i}.x"] for i in EVERY} | {"lifecycle": ["lifecycle.x", "lifecycle.y"]}
    results = _passing("smoke-test", "lifecycle", "webhooks", webhooks="failed")
    report = build_report(results, selected=EVERY, with_checks=EVERY, metadata={}, interrupted="SIGTERM",
                          expected=expected)  # fmt: skip
    assert report.verdict == "interrupted" and report.interruption == {"signal": "SIGTERM", "checks_finished": 3}
    items = {i.id: i for i in report.items}
    assert items["smoke-test"].status == "passed", "all of its checks finished"
    assert items["webhooks"].status == "failed", "a finding stands"
    assert items["lifecycle"].status == "skipped" and "after 1 of this item's 2 checks" in items["lifecycle"].reason()
    assert items["idempotency"].status == "skipped" and "interrupted (SIGTERM)" in items["idempotency"].reason()
    assert not any(c.id.endswith(".tests-collected") for i in report.items for c in i.checks)
    assert report.verdict_line.startswith("INTERRUPTED by SIGTERM (3 checks finished; failed so far: webhooks")


def _shown(folder: Path) -> dict[str, tuple[str, str]]:
    """(verdict word or value, the text around it) as each consumer reads it: the HTML banner, the PDF's title
    page and title, the Markdown head, JUnit and Allure properties, the email's subject and first line."""
    root = ET.parse(folder / "junit.xml").getroot()
    junit = {p.get("name"): p.get("value") or "" for p in root.findall("properties/property")}
    pdf = pypdf.PdfReader(io.BytesIO((folder / "readiness.pdf").read_bytes()))
    first_page = pdf.pages[0].extract_text()
    html = (folder / "readiness.html").read_text()
    banner = html[html.index('id="verdict"') : html.index("</div>\n</div>", html.index('id="verdict"'))]
    word = banner[banner.index('<div class="word">') + 18 : banner.index("</div>")]
    markdown = (folder / "readiness.md").read_text().splitlines()
    allure = dict(
        line.split("=", 1) for line in (folder / "allure-results" / "environment.properties").read_text().splitlines()
    )
    found = {
        "html": (word, banner),
        "pdf": (next(x for x in first_page.splitlines() if x.isupper()), first_page),
        "pdf title": ("", str(pdf.metadata.title if pdf.metadata else "")),
        "markdown": (markdown[0].split("**")[1], "\n".join(markdown[:3])),
        "junit": (junit["verdict"], junit["verdict_line"]),
        "allure": (allure["verdict"], allure["verdict.line"]),
    }
    if (folder / "email.eml").exists():
        message = message_from_bytes((folder / "email.eml").read_bytes(), policy=policy.default)
        body = message.get_body(preferencelist=("plain",))
        assert body is not None
        found["email"] = (str(message["Subject"]), body.get_content().splitlines()[0])
    return found


def test_every_output_of_a_passed_subset_says_passed_and_never_ready(passed_json: Path) -> None:
    document = model.load_report(passed_json)
    render_all(document, passed_json.parent, COMPANY)
    line = document["verdict_line"]
    assert line == (
        "PASSED, NOT FULLY VERIFIED (3 of 5 readiness items passed; not verified: idempotency; 1 not run; "
        "cut-over rehearsal: 1 of 3 items passed; 2 not run)"
    )
    shown = _shown(passed_json.parent)
    for where in ("html", "pdf", "markdown"):
        assert shown[where][0] == "PASSED", where
    assert shown["junit"][0] == shown["allure"][0] == "passed"
    for where, (_, text) in shown.items():
        flat = " ".join(text.split())  # the PDF wraps a long line
        assert line.replace("…", "...") in flat or line in flat, where
    subject, first = shown["email"]
    assert subject.startswith("DRAFT - DO NOT SEND") and first.startswith(f"DO NOT SEND. {line}")


def test_every_output_of_a_ready_run_says_ready(ready_json: Path) -> None:
    document = model.load_report(ready_json)
    render_all(document, ready_json.parent, COMPANY)
    shown = _shown(ready_json.parent)
    for where in ("html", "pdf", "markdown"):
        assert shown[where][0] == "READY", where
    assert shown["junit"][0] == shown["allure"][0] == "ready"
    line = "READY (all 5 readiness items passed; cut-over rehearsal: 3 of 3 items passed)"
    for where, (_, text) in shown.items():
        assert line in " ".join(text.split()), where
    subject, first = shown["email"]  # every item passed, but only against the local twin: not a request yet
    assert subject.startswith("DRAFT - DO NOT SEND") and first.startswith(f"DO NOT SEND. {line}")


def test_an_interrupted_record_renders_as_interrupted_without_any_email(interrupted_json: Path) -> None:
    folder = interrupted_json.parent
    (folder / "email.eml").write_text("a request from an earlier run")  # must not survive next to this record
    (folder / "email.txt").write_text("a request from an earlier run")
    document = model.load_report(interrupted_json)
    done = render_all(document, folder, COMPANY)
    assert done.email_skipped is not None and "interrupted" in done.email_skipped
    assert not (folder / "email.eml").exists() and not (folder / "email.txt").exists()
    shown = _shown(folder)
    for where in ("html", "pdf", "markdown"):
        assert shown[where][0] == "INTERRUPTED", where
    assert shown["junit"][0] == shown["allure"][0] == "interrupted"
    for where, (_, text) in shown.items():
        assert "INTERRUPTED by SIGINT" in text, where


def test_a_version_1_report_still_reads_and_its_subset_ready_reads_as_passed(passed_json: Path) -> None:
    """Reports written before schema version 2 stay readable; their "ready" meant "no failure", so a subset
    shows as PASSED, never READY."""
    document = json.loads(passed_json.read_text())
    document.update(schema_version="1", verdict="ready")
    for key in ("verdict_line", "coverage"):
        document.pop(key)
    for item in document["items"]:
        item.pop("decided_by", None)
    document["digest"]["value"] = digest.recompute(document)
    passed_json.write_text(json.dumps(document))
    old = model.load_report(passed_json)
    assert model.verdict(old) == "passed" and model.verdict_word(old) == "PASSED"
    assert model.verdict_line(old).startswith("PASSED, NOT FULLY VERIFIED (4 of 8 items passed")
    render_all(old, passed_json.parent, COMPANY)
    assert "**PASSED**" in (passed_json.parent / "readiness.md").read_text().splitlines()[0]


@pytest.mark.parametrize("verdict", ["passed", "interrupted"])
def test_schema_version_1_documents_cannot_carry_the_new_verdicts(passed_json: Path, verdict: str) -> None:
    document = json.loads(passed_json.read_text())
    document.update(schema_version="1", verdict=verdict)
    with pytest.raises(model.NotAReport, match="verdict|interruption"):
        model.validate(document)


def test_findings_of_one_cause_are_counted_as_one_cause_and_advisories_never_as_failures() -> None:
    """A client with no retries at all: five findings, one cause, beside the verdict; the advisory order-key finding
    is counted as advisory (the console, HTML and Markdown showed it among the failures)."""
    five = ("5xx-retried", "429-backoff-grows", "429-jitter", "429-retry-after", "timeout-retried")
    results = _passing(*EVERY)
    for name in five:
        results.append(CheckResult(f"t::{name}", "error-handling", f"error-handling.{name}", name, status="failed",
                                   cause="no-retries"))  # fmt: skip
    results.append(CheckResult("t::orders", "idempotency", "idempotency.orders-keyed", "orders", status="failed",
                               severity="advisory"))  # fmt: skip
    report = build_report(results, selected=EVERY, with_checks=EVERY, metadata={})
    assert report.verdict_line == "NOT READY (failed: error-handling; 5 findings from 1 cause; 1 advisory)"
    document = report.to_dict()
    assert document["counts"]["failed"] == 5 and document["counts"]["advisory"] == 1
    first, advisory = document["causes"]
    assert first["id"] == "no-retries" and first["checks"] == [f"error-handling.{n}" for n in sorted(five)]
    assert advisory == {"id": None, "title": "orders", "explains": "", "checks": ["idempotency.orders-keyed"],
                        "advisory": True}  # fmt: skip
