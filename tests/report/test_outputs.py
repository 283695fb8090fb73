"""Each rendered file, read back the way its consumer reads it: JUnit and Allure tools, Markdown, a mail client
(email.parser), a PDF reader (pypdf). A failing run must make the fix obvious in every one of them."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pypdf
import pytest

from bluum_readiness.report import mail, model
from bluum_readiness.report.render import render_all
from tests.report.conftest import COMPANY, find_check, write_run

JITTER = "error-handling.429-jitter"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """The failing run's files, rendered once for the module (~0.25 s of CPU a rendering, the PDF's mostly): the
    tests using it only read them and the document (one that changes the document changes a deep copy)."""
    not_ready_json = write_run(tmp_path_factory.mktemp("rendered") / "not-ready", failing=True)
    document = model.load_report(not_ready_json)
    render_all(document, not_ready_json.parent, COMPANY)
    return not_ready_json.parent, document


def test_junit_has_a_suite_per_item_and_a_case_per_check(rendered: tuple[Path, dict[str, Any]]) -> None:
    folder, document = rendered
    root = ET.parse(folder / "junit.xml").getroot()
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert list(suites) == [i["id"] for i in document["items"]]
    for item in document["items"]:
        cases = suites[item["id"]].findall("testcase")
        assert [c.get("name") for c in cases] == [c["id"] for c in item["checks"]]
        assert all(c.get("classname") == item["id"] for c in cases)
    total = sum(len(i["checks"]) for i in document["items"])
    assert int(root.get("tests", "0")) == total and root.get("failures") == "1"
    jitter = next(c for c in suites["error-handling"].findall("testcase") if c.get("name") == JITTER)
    failure = jitter.find("failure")
    assert failure is not None and "full jitter" in (failure.text or "") and "expected:" in (failure.text or "")
    out = jitter.findtext("system-out") or ""
    assert "GET /v1/investors/inv_01synthetic -> 429 req_synthetic_0001" in out
    nv = next(c for c in suites["idempotency"].findall("testcase") if c.get("name") == "idempotency.orders-keyed")
    skipped = nv.find("skipped")
    assert skipped is not None and "does not place orders" in skipped.get("message", "")


def test_allure_has_one_result_per_check_with_the_item_as_feature(rendered: tuple[Path, dict[str, Any]]) -> None:
    folder, document = rendered
    results = [json.loads(p.read_text()) for p in (folder / "allure-results").glob("*-result.json")]
    checks = {c["id"]: (i, c) for i in document["items"] for c in i["checks"]}
    assert sorted(r["testCaseId"] for r in results) == sorted(checks)
    for result in results:
        item, check = checks[result["testCaseId"]]
        labels = {label["name"]: label["value"] for label in result["labels"]}
        assert labels["feature"] == item["title"] and labels["story"] == check["title"]
        for attachment in result.get("attachments", []):
            assert (folder / "allure-results" / attachment["source"]).is_file()
    jitter = next(r for r in results if r["testCaseId"] == JITTER)
    assert jitter["status"] == "failed" and "full jitter" in jitter["statusDetails"]["trace"]
    names = {a["name"]: a for a in jitter["attachments"]}
    evidence = json.loads((folder / "allure-results" / names["evidence"]["source"]).read_text())
    assert evidence == find_check(document, JITTER)["evidence"]
    assert "req_synthetic_0002" in (folder / "allure-results" / names["transcript"]["source"]).read_text()
    assert "verdict=not_ready" in (folder / "allure-results" / "environment.properties").read_text()


def test_markdown_shows_the_verdict_and_the_finding(rendered: tuple[Path, dict[str, Any]]) -> None:
    folder, document = rendered
    text = (folder / "readiness.md").read_text()
    assert text.startswith("# Bluum production readiness — Acme Invest: **NOT READY**")
    assert "## What to fix" in text and f"`{JITTER}`" in text
    for line in ("**Expected:** waits that vary", "**Observed:** nearly identical", "**Fix:** retry 429"):
        assert line in text
    assert "| 1 | GET | `/v1/investors/inv_01synthetic` | 429 | `req_synthetic_0001` | 1.2 | backoff-429-0 |" in text
    assert document["digest"]["value"] in text


def test_the_email_goes_to_support_with_the_pdf_and_a_line_per_readiness_item(sandbox_ready_json: Path) -> None:
    ready_json = sandbox_ready_json
    document = model.load_report(ready_json)
    assert document["verdict"] == "ready" and document["request"] == {"send_ready": True, "missing": []}
    render_all(document, ready_json.parent, COMPANY)
    message = message_from_bytes((ready_json.parent / "email.eml").read_bytes(), policy=policy.default)
    assert message["To"] == mail.SUPPORT and message["From"] == COMPANY.dashboard_email
    assert "Acme Invest" in message["Subject"] and "READY" in message["Subject"]
    assert "DRAFT" not in message["Subject"] and "X-Unsent" not in message
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    for value in (COMPANY.name, COMPANY.dashboard_email, COMPANY.product_description, COMPANY.integration_model):
        assert str(value) in text
    lines = [line for line in text.splitlines() if line.startswith(("[x]", "[ ]"))]
    assert [line.split("(")[1].split(")")[0] for line in lines] == document["phases"]["readiness"]["items"]
    sandbox = "tested in sandbox (https://sandbox.api.bluumfinance.com/v1)"
    assert all(line.startswith("[x]") and "readiness.json" in line and sandbox in line for line in lines)
    rehearsals = [line for line in text.splitlines() if line.startswith("- Smoke test (smoke-test)")]
    assert len(rehearsals) == 1 and "rehearsal passed" in rehearsals[0] and "confirmed" not in rehearsals[0]
    assert "smoke-test.read-only-200" in rehearsals[0]
    assert document["digest"]["value"] in text
    attachments = list(message.iter_attachments())
    assert [a.get_filename() for a in attachments] == ["readiness.pdf"]
    pdf_bytes = attachments[0].get_content()
    assert pdf_bytes == (ready_json.parent / "readiness.pdf").read_bytes()
    assert (ready_json.parent / "email.txt").read_text().startswith(f"To: {mail.SUPPORT}\nSubject: ")


def test_a_twin_only_ready_run_writes_a_draft_saying_where_each_item_was_proven(ready_json: Path) -> None:
    """Every item passed, but against the local twin: the lifecycle was not tested in Bluum's sandbox, so the email
    is a DRAFT; it confirms only readiness items, says where each was proven, and shows the cut-over as rehearsals."""
    document = model.load_report(ready_json)
    assert document["verdict"] == "ready" and document["request"]["send_ready"] is False
    render_all(document, ready_json.parent, COMPANY)
    message = message_from_bytes((ready_json.parent / "email.eml").read_bytes(), policy=policy.default)
    assert message["Subject"].startswith("DRAFT - DO NOT SEND") and message["X-Unsent"] == "1"
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    twin = "proven against a local emulator of the sandbox, with faults injected"
    missing = next(line for line in text.splitlines() if line.startswith("- lifecycle: proven against the local"))
    assert "bluum-readiness report --combine" in missing
    lines = [line for line in text.splitlines() if line.startswith(("[x]", "[ ]"))]
    assert [line.split("(")[1].split(")")[0] for line in lines] == document["phases"]["readiness"]["items"]
    assert lines[0].startswith("[ ] Full lifecycle tested in sandbox (lifecycle): not confirmed") and twin in lines[0]
    assert all(line.startswith("[x]") and twin in line for line in lines[1:])
    assert "tested in sandbox (http" not in text
    for item in ("smoke-test", "credential-rotation", "observability"):
        line = next(x for x in text.splitlines() if f"({item})" in x)
        assert line.startswith("- ") and "rehearsal passed" in line and twin in line and "confirmed" not in line


def test_a_passed_run_that_does_not_confirm_every_item_is_a_draft(passed_json: Path) -> None:
    document = model.load_report(passed_json)
    assert document["verdict"] == "passed"
    render_all(document, passed_json.parent, COMPANY)
    message = message_from_bytes((passed_json.parent / "email.eml").read_bytes(), policy=policy.default)
    assert message["Subject"].startswith("DRAFT - DO NOT SEND") and "incomplete" in message["Subject"]
    assert message["X-Unsent"] == "1"
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    first = text.splitlines()[0]
    assert first.startswith("DO NOT SEND. PASSED, NOT FULLY VERIFIED (3 of 5 readiness items passed; not verified")
    assert "READY" not in first.replace("NOT READY", "")
    assert "- credentials: not run" in text and "- idempotency: not verified (" in text
    assert "requests production access" not in text
    unverified = next(line for line in text.splitlines() if line.startswith("[ ]") and "(idempotency)" in line)
    assert "not verified" in unverified


def test_a_not_ready_email_is_a_draft_that_lists_what_failed(rendered: tuple[Path, dict[str, Any]]) -> None:
    folder, _ = rendered
    message = message_from_bytes((folder / "email.eml").read_bytes(), policy=policy.default)
    assert message["Subject"].startswith("DRAFT - DO NOT SEND") and message["X-Unsent"] == "1"
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    assert text.startswith(
        "DO NOT SEND. NOT READY (failed: error-handling; 1 finding from 1 cause). Before this request can be sent:"
    )
    assert "- error-handling: failed (error-handling.429-jitter)" in text
    lines = text.splitlines()
    cause = lines.index("What failed, by cause (1 finding from 1 cause):")
    assert lines[cause + 1] == "- Backoff without jitter — fails error-handling.429-jitter"
    assert "requests production access" not in text
    assert "[ ] Error handling is robust (error-handling): FAILED - error-handling.429-jitter" in text


def test_the_pdf_reads_title_page_then_items_with_the_finding(rendered: tuple[Path, dict[str, Any]]) -> None:
    folder, document = rendered
    reader = pypdf.PdfReader(io.BytesIO((folder / "readiness.pdf").read_bytes()))
    pages = [page.extract_text() for page in reader.pages]
    assert "NOT READY" in pages[0] and "embedded sandbox twin" in pages[0] and "Acme Invest" in pages[0]
    assert document["digest"]["value"] in pages[0]
    text = "\n".join(pages[1:])
    for needed in ("Error handling is robust", JITTER, "Expected", "waits that vary between trials", "Observed",
                   "Fix", "full jitter", "req_synthetic_0001", "backoff-429-0", "Charts"):  # fmt: skip
        assert needed in text, needed
    title = "Bluum production readiness: NOT READY (failed: error-handling; 1 finding from 1 cause)"
    assert reader.metadata is not None and reader.metadata.title == title


def test_text_outside_latin1_does_not_break_the_pdf(not_ready_json: Path) -> None:
    from bluum_readiness.report.pdf import latin1, render_pdf

    assert latin1("a → b — “c” ≥ 1 日本") == 'a -> b - "c" >= 1 ??'
    document = model.load_report(not_ready_json)
    reader = pypdf.PdfReader(io.BytesIO(render_pdf(document, "株式会社 Acme — Invest")))
    assert "Acme - Invest" in reader.pages[0].extract_text()


def test_markdown_carries_the_rotation_runbook(rendered: tuple[Path, dict[str, Any]]) -> None:
    import copy

    from bluum_readiness.checks.rotation import RUNBOOK
    from bluum_readiness.report.markdown import render_markdown

    _, document = rendered
    with_runbook = copy.deepcopy(document)
    with_runbook["items"][0]["checks"][0].setdefault("evidence", {})["runbook"] = RUNBOOK
    text = render_markdown(with_runbook)
    assert f"## Runbook: {RUNBOOK['title']}" in text
    assert f"1. {RUNBOOK['steps'][0]}" in text and "**Rollback:**" in text
    assert "## Runbook" not in render_markdown(document)


def test_every_output_shows_the_two_phases_and_where_each_item_was_proven(ready_json: Path) -> None:
    folder = ready_json.parent
    document = model.load_report(ready_json)
    render_all(document, folder, COMPANY)
    twin = "proven against a local emulator of the sandbox, with faults injected"
    html = (folder / "readiness.html").read_text()
    assert 'id="phase-readiness"' in html and 'id="phase-cutover"' in html and "REHEARSED" in html and twin in html
    assert "a DRAFT, not to be sent yet" in html
    markdown = (folder / "readiness.md").read_text()
    assert "## Readiness: the five items the production-access request confirms" in markdown
    assert "## Cut-over: rehearsed before production access, not confirmed" in markdown
    smoke_row = next(x for x in markdown.splitlines() if "(`smoke-test`)" in x and x.startswith("|"))
    assert "| rehearsed |" in smoke_row and twin in smoke_row
    pdf_text = " ".join(
        " ".join(p.extract_text().split())
        for p in pypdf.PdfReader(io.BytesIO((folder / "readiness.pdf").read_bytes())).pages
    )
    assert "Cut-over: rehearsed before production access" in pdf_text and "REHEARSED" in pdf_text and twin in pdf_text
    root = ET.parse(folder / "junit.xml").getroot()
    top = {p.get("name"): p.get("value") for p in root.findall("properties/property")}
    assert top["phase.readiness"] == "all 5 readiness items passed" and top["request"] == "draft"
    suite = next(s for s in root.findall("testsuite") if s.get("name") == "smoke-test")
    props = {p.get("name"): p.get("value") for p in suite.findall("properties/property")}
    assert props["phase"] == "cut-over rehearsal" and props["proven"] == twin
    results = [json.loads(p.read_text()) for p in (folder / "allure-results").glob("*-result.json")]
    smoke = next(r for r in results if r["testCaseId"] == "smoke-test.read-only-200")
    labels = {(label["name"], label["value"]) for label in smoke["labels"]}
    assert ("parentSuite", "cut-over rehearsal") in labels and ("tag", f"proven: {twin}") in labels
    lifecycle = next(r for r in results if r["testCaseId"].startswith("lifecycle."))
    assert ("parentSuite", "readiness") in {(label["name"], label["value"]) for label in lifecycle["labels"]}


HOSTILE = (
    "boom | </details> <script>alert(1)</script> [click](https://evil.example) ![x](https://evil.example/x.png) "
    "**loud** `tick` ``two`` ~~gone~~ _under_ &amp; \\\n# Heading\n- item"
)


def test_markdown_shows_check_text_as_written_never_as_markdown(not_ready_json: Path) -> None:
    """What an integration or a target wrote (an exception message, a request path, a request id) reaches readiness.md
    through a check's text: it is shown literally — no link, image, HTML, heading or list of its own, and the tables
    and the <details> fold keep their shape."""
    from markdown_it import MarkdownIt

    from bluum_readiness.report.markdown import render_markdown

    document = json.loads(not_ready_json.read_text())
    check = find_check(document, JITTER)
    for key in ("title", "expected", "observed", "fix"):
        check[key] = f"{key}: {HOSTILE}"
    check["evidence"]["exchanges"][0]["path"] = "/v1/a|b`c`"
    check["evidence"]["exchanges"][0]["request_id"] = "req_`|</details>"
    document["items"][0]["reason"] = HOSTILE
    document["integration"] = "exec:node `adapter`.mjs | tee"
    html = MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(render_markdown(document, HOSTILE))

    assert "<a " not in html and "<img" not in html and "<script" not in html and "<del>" not in html
    assert html.count("<h1>") == 1 and html.count("<details>") == 1 and html.count("</details>") == 1
    assert "<strong>loud</strong>" not in html and "<em>under</em>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "[click](https://evil.example)" in html
    assert "<code>exec:node `adapter`.mjs | tee</code>" in html
    tables = html.split("<table>")[1:]
    assert len(tables) == 3  # the items of each phase and the finding's transcript
    rows = sum(table.split("</table>")[0].count("<tr>") for table in tables[:2])
    assert rows == 2 + len(document["items"])  # a header per phase and one row per item
    for row in tables[0].split("<tr>")[2:] + tables[1].split("<tr>")[2:] + tables[2].split("<tr>")[2:3]:
        assert row.count("<td>") in (6, 7), row  # a | in the text did not split a cell
    assert "<code>/v1/a|b`c`</code>" in tables[2]
