"""readiness.json read back: schema validation, the digest check, and the views every renderer shares.

The JSON document is the report's model: renderers take the parsed dict (validated against
``report-schema.json``, the same file as docs/report-schema.json) so ``bluum-readiness report`` re-renders exactly
what ``bluum-readiness run`` rendered. Helpers here derive what several renderers show (labels, the failed
findings, exchange rows, the evidence reference of a check).
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]  # no stubs; the API used is small

from bluum_readiness.errors import ConfigError
from bluum_readiness.failures import Status
from bluum_readiness.report import verdict as rules
from bluum_readiness.report.causes import CauseGroup, by_cause, count_line
from bluum_readiness.report.digest import recompute

__all__ = [
    "ENVIRONMENTS",
    "NotAReport",
    "STATUS_LABELS",
    "cause_groups",
    "check_reference",
    "decided_by",
    "exchange_rows",
    "findings",
    "load_report",
    "schema",
    "validate",
    "verdict",
    "verdict_line",
    "verdict_word",
    "verify_digest",
]

Report = dict[str, Any]

ENVIRONMENTS = {
    "embedded_twin": "embedded sandbox twin (local)",
    "sandbox": "Bluum sandbox",
    "production": "Bluum production",
    "custom": "custom URL",
}
STATUS_LABELS: dict[str, str] = {
    Status.PASSED: "PASSED",
    Status.FAILED: "FAILED",
    Status.BROKEN: "BROKEN",
    Status.NOT_VERIFIABLE: "NOT VERIFIABLE",
    Status.SKIPPED: "SKIPPED",
    "advisory": "ADVISORY",
    Status.NOT_APPLICABLE: "NOT APPLICABLE",
}
NOT_PASSED = (Status.FAILED, Status.BROKEN, Status.NOT_VERIFIABLE)


class NotAReport(ConfigError):
    """The file is not a readiness report this version can read (exit 2)."""


@cache
def schema() -> dict[str, Any]:
    """The JSON Schema of readiness.json (shipped in the package; docs/report-schema.json is the same file)."""
    text = resources.files("bluum_readiness.report").joinpath("report-schema.json").read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def validate(document: Any, source: str = "readiness.json") -> Report:
    """``document`` if it is a valid report; else NotAReport naming the first problem and where it is."""
    if not isinstance(document, dict) or "schema_version" not in document or "items" not in document:
        raise NotAReport(f"{source} is not a bluum-readiness report (no schema_version/items); pass a readiness.json")
    validator = jsonschema.Draft202012Validator(schema())
    error = jsonschema.exceptions.best_match(validator.iter_errors(document))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        raise NotAReport(
            f"{source} does not match the report schema version {document.get('schema_version')!r} at {where}: "
            f"{error.message[:300]}; re-run `bluum-readiness run` to produce a fresh report"
        )
    return document


def load_report(path: str | Path) -> Report:
    """Read and validate a readiness.json (NotAReport, exit 2, for anything else)."""
    file = Path(path)
    try:
        if file.is_dir() and (file / "readiness.json").is_file():
            file = file / "readiness.json"
        if file.exists() and not file.is_file():  # a FIFO would make the read wait for a writer forever
            raise NotAReport(f"{path} is not a regular file; pass the readiness.json that `bluum-readiness run` wrote")
    except OSError as exc:  # a name longer than the system allows, a folder this process may not search
        shown = str(path) if len(str(path)) <= 100 else f"{str(path)[:60]}…"
        raise NotAReport(f"{shown}: cannot read it ({exc.strerror or exc}); pass a readiness.json") from None
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotAReport(f"{path}: no such file; pass the readiness.json that `bluum-readiness run` wrote") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise NotAReport(f"{path}: cannot read it as text ({exc}); pass a readiness.json") from None
    try:
        document = json.loads(text, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as exc:
        raise NotAReport(f"{path} is not JSON ({exc.msg} at line {exc.lineno}); pass a readiness.json") from None
    except _Refused as exc:
        raise NotAReport(f"{path} is not a readiness report ({exc}); pass the readiness.json a run wrote") from None
    except RecursionError:
        raise NotAReport(
            f"{path} is not a readiness report (its JSON nests too deeply to read); pass the readiness.json a run wrote"
        ) from None
    except ValueError as exc:  # an integer of more than 4,300 digits (Python's int-string limit)
        what = "a number of more than 4,300 digits" if "digits" in str(exc) else f"a value it cannot read ({exc})"
        raise NotAReport(
            f"{path} is not a readiness report (it holds {what}); pass the readiness.json a run wrote"
        ) from None
    return validate(document, str(path))


class _Refused(ValueError):
    """JSON that parses but that no run writes: a key given twice in one object."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object whose keys are all different. JSON leaves duplicates undefined and Python keeps the last one, so a
    file whose first ``verdict`` says ``not_ready`` and whose second says ``ready`` would read (and verify) as ready:
    a report never has a key twice, so such a file is not one."""
    made: dict[str, Any] = {}
    for key, value in pairs:
        if key in made:
            raise _Refused(f"the key {key[:80]!r} appears twice in one object")
        made[key] = value
    return made


def coverage(document: Report) -> rules.Coverage:
    """Which items the run proved (recorded since schema version 2; derived from the items for version 1)."""
    if isinstance(document.get("coverage"), dict):
        return rules.Coverage.from_dict(document["coverage"])
    return rules.coverage((i["id"], i["status"]) for i in document["items"])


def verdict(document: Report) -> str:
    """The verdict by this version's rule: a version-1 report's ``ready`` that did not pass every item (its rule
    was "no failure") reads as ``passed``, so an old report is never shown READY for a subset."""
    recorded = str(document["verdict"])
    if document.get("schema_version") == "1" and recorded == "ready":
        cover = coverage(document)
        return rules.Verdict.READY if len(cover.passed) == cover.total else rules.Verdict.PASSED
    return recorded


def verdict_word(document: Report) -> str:
    """READY, PASSED, NOT READY or INTERRUPTED."""
    return rules.word(verdict(document), coverage(document))


def verdict_line(document: Report) -> str:
    """The one line every output shows, e.g. ``PASSED (3 of 8 items passed; 5 not run)``."""
    if document.get("verdict_line") and document.get("schema_version") != "1":
        return str(document["verdict_line"])
    stopped = document.get("interruption") or {}
    return rules.headline(
        verdict(document),
        coverage(document),
        signal=stopped.get("signal"),
        checks_finished=stopped.get("checks_finished"),
        findings=count_line(cause_groups(document)),
    )


def decided_by(item: dict[str, Any]) -> list[str]:
    """The check ids that gave a not-passed item its status (recorded since version 2; derived for version 1)."""
    if isinstance(item.get("decided_by"), list):
        return [str(c) for c in item["decided_by"]]
    return rules.decided_by(item["status"], [(c["id"], c["status"], c["severity"]) for c in item["checks"]])


def verify_digest(document: Report) -> tuple[bool, str, str]:
    """(matches, recorded, recomputed) for the report's SHA-256 digest."""
    recorded = str(document.get("digest", {}).get("value", ""))
    now = recompute(document)
    return recorded == now, recorded, now


def checks(document: Report) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Every (item, check) pair in report order."""
    return [(item, check) for item in document["items"] for check in item["checks"]]


def cause_groups(document: Report) -> list[CauseGroup]:
    """The record's findings grouped by cause (``report.causes``; a record without causes: one group per check)."""
    return by_cause(document["items"])


def findings(document: Report) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """The checks that did not pass (failed and broken first), with their item."""
    found = [(i, c) for i, c in checks(document) if c["status"] in NOT_PASSED]
    order = {Status.FAILED: 0, Status.BROKEN: 1, Status.NOT_VERIFIABLE: 2}
    return sorted(found, key=lambda pair: order[pair[1]["status"]])


def exchange_rows(check: dict[str, Any]) -> list[dict[str, Any]]:
    """The check's HTTP exchanges as transcript rows: method, path, status, request id, timing, fault."""
    rows = []
    for x in check.get("evidence", {}).get("exchanges", []) or []:
        status = x.get("status")
        outcome = x.get("outcome") or ""
        rows.append(
            {
                "seq": x.get("seq"),
                "method": x.get("method", ""),
                "path": x.get("path", "") + (f"?{x['query']}" if x.get("query") else ""),
                "status": "-" if status is None else str(status),
                "request_id": x.get("request_id") or "-",
                "ms": "-" if x.get("duration_ms") is None else f"{float(x['duration_ms']):.1f}",
                "fault": x.get("fault") or "",
                "note": outcome if outcome not in ("", "ok", "status", "forwarded") else "",
                "idempotency_key": x.get("idempotency_key") or "",
            }
        )
    return rows


def check_reference(document: Report, check: dict[str, Any]) -> str:
    """How to find a check's evidence: ``readiness.json#<check id>`` with what it holds and the digest prefix."""
    evidence = check.get("evidence") or {}
    parts = []
    if evidence.get("exchanges"):
        parts.append(f"{len(evidence['exchanges'])} exchanges")
    if evidence.get("fault_plans"):
        parts.append(f"{len(evidence['fault_plans'])} fault plans")
    other = sorted(k for k in evidence if k not in ("exchanges", "fault_plans", "seed", "shared_observation"))
    parts += other
    if evidence.get("shared_observation"):  # Harness.observe: judged on what an earlier check observed
        parts.append("observed once by an earlier check of this run, judged by this one too")
    held = f" ({', '.join(parts)})" if parts else ""
    return f"readiness.json#{check['id']}{held}"


def environment_label(document: Report) -> str:
    """Where the run was: the environment and host, and a real target's 429s to a run that kept under its limit
    (``target.rate_limited``: another client shares the key pair)."""
    target = document["target"]
    label = ENVIRONMENTS.get(target.get("environment", ""), target.get("environment", ""))
    host = target.get("host", "")
    shown = label if target.get("mode") == "embedded" else f"{label} ({host})"
    limited = target.get("rate_limited")
    if isinstance(limited, dict):
        shown += (
            f"; it answered {limited.get('refusals')} request(s) 429 although the run kept under its rate limit "
            f"(another client on the key pair; the run slowed to {limited.get('slowest_per_s')} requests/s)"
        )
    return shown


def short_digest(document: Report) -> str:
    return f"sha256:{document['digest']['value']}"
