"""allure-results/: one Allure result per check (the item as the ``feature`` label, the check as the ``story``),
its evidence attached as JSON and its exchange transcript as text, plus environment.properties.

Built from allure-python-commons' model (``allure_commons.model2``) and written in Allure's documented file
format (``<uuid>-result.json``, ``<uuid>-attachment.<ext>``). The uuids derive from the report digest and the
check id, so re-rendering the same report writes the same files.
"""

from __future__ import annotations

import json
import shutil
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from allure_commons.model2 import (
    ATTACHMENT_PATTERN,
    Attachment,
    Label,
    Parameter,
    Status,
    StatusDetails,
    TestResult,
)

from bluum_readiness.report import model, phases, provenance

__all__ = ["write_allure"]

_STATUS = {
    "passed": Status.PASSED,
    "failed": Status.FAILED,
    "broken": Status.BROKEN,
    "not_verifiable": Status.SKIPPED,
    "skipped": Status.SKIPPED,
    "not_applicable": Status.SKIPPED,
}


def _uid(document: dict[str, Any], name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"bluum-readiness:{document['digest']['value']}:{name}"))


def _plain(value: Any) -> Any:
    """An allure model object as Allure's JSON (empty members left out, as allure-python-commons does)."""
    fields = getattr(value, "__attrs_attrs__", None)
    if fields is not None:
        found = {f.name: _plain(getattr(value, f.name)) for f in fields}
        return {k: v for k, v in found.items() if v or v is False or v == 0}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _dump(item: Any) -> str:
    return json.dumps(_plain(item), ensure_ascii=False, indent=1, sort_keys=True)


def _attach(folder: Path, document: dict[str, Any], key: str, name: str, body: str, mime: str, ext: str) -> Attachment:
    source = ATTACHMENT_PATTERN.format(prefix=_uid(document, key), ext=ext)
    (folder / source).write_text(body, encoding="utf-8")
    return Attachment(name=name, source=source, type=mime)


def _transcript(check: dict[str, Any]) -> str:
    lines = ["#  method path status x-request-id ms fault"]
    for x in model.exchange_rows(check):
        note = " ".join(p for p in (x["fault"], x["note"]) if p)
        lines.append(f"{x['seq']} {x['method']} {x['path']} {x['status']} {x['request_id']} {x['ms']} {note}".rstrip())
    return "\n".join(lines) + "\n"


def _result(
    folder: Path, document: dict[str, Any], item: dict[str, Any], check: dict[str, Any], start: int, phase: str
) -> None:
    attachments = []
    evidence = check.get("evidence") or {}
    if evidence:
        body = json.dumps(evidence, indent=2, ensure_ascii=False, sort_keys=True)
        attachments.append(
            _attach(folder, document, f"{check['id']}/evidence", "evidence", body, "application/json", "json")
        )
    if evidence.get("exchanges"):
        attachments.append(
            _attach(
                folder, document, f"{check['id']}/transcript", "transcript", _transcript(check), "text/plain", "txt"
            )
        )
    proven = provenance.describe(provenance.check_provenance(document, check))
    details = None
    if check["status"] != "passed":
        trace = "\n".join(f"{k}: {check[k]}" for k in ("expected", "observed", "fix") if check.get(k))
        details = StatusDetails(message=check.get("reason") or check.get("message"), trace=trace or None)
    result = TestResult(
        uuid=_uid(document, check["id"]),
        historyId=check["id"],
        testCaseId=check["id"],
        fullName=f"{item['id']}.{check['id']}",
        name=check["title"],
        status=_STATUS[check["status"]],
        statusDetails=details,
        stage="finished",
        description=f"{check['id']} (checklist item {item['id']}: {item['title']}; {phase}). "
        f"Proven: {proven}. Evidence: {model.check_reference(document, check)}",
        start=start,
        stop=start + int(check["duration_s"] * 1000),
        labels=[
            Label(name="epic", value="Bluum production readiness"),
            Label(name="parentSuite", value=phase),
            Label(name="tag", value=f"proven: {proven}"),
            Label(name="feature", value=item["title"]),
            Label(name="story", value=check["title"]),
            Label(name="tag", value=item["id"]),
            Label(name="severity", value="critical" if check["severity"] == "required" else "minor"),
            Label(name="suite", value=item["id"]),
            Label(name="framework", value="bluum-readiness"),
        ],
        parameters=[Parameter(name="seed", value=str(document["seed"]))],
        attachments=attachments,
    )
    (folder / f"{result.uuid}-result.json").write_text(_dump(result) + "\n", encoding="utf-8")


def write_allure(document: dict[str, Any], out_dir: Path) -> Path:
    folder = out_dir / "allure-results"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    start = int(datetime.fromisoformat(document["started"]).timestamp() * 1000)
    for phase in phases.phases(document):
        name = (
            "cut-over rehearsal"
            if phase.key == "cutover" and phase.rehearsal
            else phase.key.replace("cutover", "cut-over")
        )
        for item in phase.items:
            for check in item["checks"]:
                _result(folder, document, item, check, start, name)
    environment = {
        "environment": model.environment_label(document),
        "target.host": document["target"]["host"],
        "integration": document["integration"]
        + (f" ({provenance.DEMONSTRATION})" if provenance.is_demonstration(document) else ""),
        "phase.readiness": phases.phases(document)[0].line,
        "phase.cutover": phases.phases(document)[1].line,
        "request": "send-ready" if provenance.request(document).send_ready else "draft",
        "seed": str(document["seed"]),
        "suite.version": document["suite_version"],
        "verdict": model.verdict(document),
        "verdict.line": model.verdict_line(document),
        "digest": model.short_digest(document),
    }
    text = "".join(f"{k}={v}\n" for k, v in environment.items())
    (folder / "environment.properties").write_text(text, encoding="utf-8")
    return folder
