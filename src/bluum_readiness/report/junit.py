"""junit.xml: one testsuite per checklist item, one testcase per check (failed → failure, broken → error,
not verifiable / skipped → skipped), the evidence reference and transcript in system-out."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from bluum_readiness.report import model, phases, provenance

__all__ = ["render_junit", "write_junit"]


def _transcript(document: dict[str, Any], check: dict[str, Any]) -> str:
    proven = provenance.describe(provenance.check_provenance(document, check))
    lines = [f"proven: {proven}", f"evidence: {model.check_reference({}, check)}"]
    for x in model.exchange_rows(check):
        note = " ".join(p for p in (x["fault"], x["note"]) if p)
        lines.append(f"{x['method']} {x['path']} -> {x['status']} {x['request_id']} {x['ms']} ms {note}".rstrip())
    return "\n".join(lines)


def _detail(check: dict[str, Any]) -> str:
    parts = [check.get("message") or check.get("reason") or ""]
    for label, key in (("expected", "expected"), ("observed", "observed"), ("fix", "fix")):
        if check.get(key):
            parts.append(f"{label}: {check[key]}")
    return "\n".join(p for p in parts if p)


def render_junit(document: dict[str, Any]) -> bytes:
    root = ET.Element("testsuites", name="bluum-readiness", timestamp=document["started"])
    properties = ET.SubElement(root, "properties")
    ET.SubElement(properties, "property", name="verdict", value=model.verdict(document))
    ET.SubElement(properties, "property", name="verdict_line", value=model.verdict_line(document))
    ET.SubElement(properties, "property", name="digest", value=model.short_digest(document))
    assessed = provenance.request(document)
    ET.SubElement(properties, "property", name="request", value="send-ready" if assessed.send_ready else "draft")
    if provenance.is_demonstration(document):
        ET.SubElement(properties, "property", name="demonstration", value=provenance.DEMONSTRATION)
    for phase in phases.phases(document):
        ET.SubElement(properties, "property", name=f"phase.{phase.key}", value=phase.line)
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0, "time": 0.0}
    phase_of = {i["id"]: p for p in phases.phases(document) for i in p.items}
    for item in document["items"]:
        checks = item["checks"]
        in_phase = phase_of.get(item["id"])
        prefix = "cut-over rehearsal" if in_phase and in_phase.key == "cutover" and in_phase.rehearsal else item["kind"]
        suite = ET.SubElement(root, "testsuite", name=item["id"], timestamp=document["started"])
        props = ET.SubElement(suite, "properties")
        for name, value in (
            ("title", item["title"]),
            ("status", item["status"]),
            ("kind", item["kind"]),
            ("phase", prefix),
            ("proven", provenance.where(document, item)),
        ):
            ET.SubElement(props, "property", name=name, value=value)
        counts = {"tests": len(checks), "failures": 0, "errors": 0, "skipped": 0, "time": 0.0}
        for check in checks:
            case = ET.SubElement(
                suite, "testcase", classname=item["id"], name=check["id"], time=f"{check['duration_s']:.3f}"
            )
            counts["time"] += check["duration_s"]
            status = check["status"]
            message = (check.get("reason") or check.get("message") or status)[:500]
            if check.get("cause"):
                case_props = ET.SubElement(case, "properties")
                ET.SubElement(case_props, "property", name="cause", value=check["cause"])
            if status == "failed" and check.get("severity") == "advisory":  # reported, never a CI failure
                ET.SubElement(case, "system-err").text = f"advisory finding (does not fail its item): {message}"
            elif status == "failed":
                counts["failures"] += 1
                ET.SubElement(case, "failure", message=message, type="ConformanceFailure").text = _detail(check)
            elif status == "broken":
                counts["errors"] += 1
                ET.SubElement(case, "error", message=message, type="HarnessError").text = _detail(check)
            elif status in ("not_verifiable", "skipped", "not_applicable"):
                counts["skipped"] += 1
                ET.SubElement(case, "skipped", message=f"{status.replace('_', ' ')}: {message}")
            ET.SubElement(case, "system-out").text = f"{check['title']}\n{_transcript(document, check)}"
        if not checks:
            suite.set("skipped", "0")
        for key, value in counts.items():
            suite.set(key, f"{value:.3f}" if key == "time" else str(value))
            totals[key] += value
    for key, value in totals.items():
        root.set(key, f"{value:.3f}" if key == "time" else str(int(value)))
    ET.indent(root)
    text: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return text + b"\n"


def write_junit(document: dict[str, Any], out_dir: Path) -> Path:
    path = out_dir / "junit.xml"
    path.write_bytes(render_junit(document))
    return path
