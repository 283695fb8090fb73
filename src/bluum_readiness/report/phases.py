"""The checklist's two phases as every output shows them: readiness (what the request email confirms) and cut-over
(rehearsed before production access, done for real after it). Read from a record's ``phases`` (schema version 3),
derived from its items' ``kind`` and its target for versions 1 and 2."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bluum_readiness.report import verdict as rules

__all__ = ["Phase", "phases", "status_label"]

TITLES = {
    "readiness": "Readiness: the five items the production-access request confirms",
    "cutover": "Cut-over: rehearsed before production access, not confirmed (done for real after access)",
    "cutover_real": "Cut-over: against production",
}


@dataclass
class Phase:
    key: str  # "readiness" | "cutover"
    title: str
    line: str
    status: str
    rehearsal: bool
    items: list[dict[str, Any]] = field(default_factory=list)


def _rehearsal(document: dict[str, Any]) -> bool:
    recorded = (document.get("phases") or {}).get("cutover") or {}
    if "rehearsal" in recorded:
        return bool(recorded["rehearsal"])
    return (document.get("target") or {}).get("environment") != "production"


def phases(document: dict[str, Any]) -> list[Phase]:
    """Both phases with their items, in checklist order."""
    rehearsal = _rehearsal(document)
    recorded = document.get("phases") or {}
    out = []
    for key, kind in (("readiness", "readiness"), ("cutover", "cut-over")):
        items = [i for i in document["items"] if i.get("kind") == kind]
        ids = tuple(i["id"] for i in items)
        if key in recorded:
            line, status = str(recorded[key]["line"]), str(recorded[key]["status"])
        else:
            cover = rules.coverage((i["id"], i["status"]) for i in items)
            name = "readiness" if key == "readiness" else rules.cutover_name(rules.PhaseIds((), ids, rehearsal))
            line, status = rules.phase_line(cover, name=name), rules.phase_status(cover)
        title = TITLES[key if key == "readiness" or rehearsal else "cutover_real"]
        out.append(Phase(key, title, line, status, rehearsal, items))
    return out


def status_label(document: dict[str, Any], item: dict[str, Any]) -> str:
    """An item's status as outputs show it: a cut-over item run before access is a rehearsal (``REHEARSED``,
    ``REHEARSAL FAILED``), never ``PASSED``/confirmed."""
    from bluum_readiness.report.model import STATUS_LABELS

    label = STATUS_LABELS.get(item["status"], str(item["status"]).upper())
    if item.get("kind") == "cut-over" and _rehearsal(document) and item["status"] in ("passed", "failed"):
        return "REHEARSED" if item["status"] == "passed" else "REHEARSAL FAILED"
    return label
