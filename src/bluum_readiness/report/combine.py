"""``combine``: several runs of one integration merged into one record, one digest — ``bluum-readiness report
--combine A.json B.json``.

Why: some checks can only run on the twin (they need its sandbox controls: the money ledger, held orders, tenant
key rotation) while Bluum asks for the lifecycle tested in its own sandbox. A run against the sandbox and a run
against the twin each prove part; combined, they prove the checklist, each check with where it was proven.

Refused (``CannotCombine``, exit 2), with the reason: fewer than two records; a record altered after its run (its
digest does not match); a record older than schema version 3 (no integration identity); an interrupted run;
records of different integrations (``integration_identity``: the factory, the adapter module's digest, the
configuration fingerprint) or of different bluum-readiness versions.

Per check, the outcome shown (the check's ``runs`` keep every record's):

1. a failure wins: a failed or broken outcome in any record is shown (the worst, broken over failed) — a failure
   is never hidden behind a pass elsewhere;
2. else a pass wins over "not verifiable" and "skipped", and among passes the most real target: Bluum's sandbox
   (any real target URL), then production, then the twin, then static, then what the team declared;
3. else not verifiable over skipped.

Items, the verdict, the phases and the request are then decided as for a single run (``suite.results``), so the
combined email is send-ready only when every readiness item passed, nothing failed, and the lifecycle was proven
against a real sandbox.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bluum_readiness.catalog import items as checklist_items
from bluum_readiness.errors import ConfigError
from bluum_readiness.failures import Status
from bluum_readiness.report import provenance
from bluum_readiness.report.model import verify_digest

__all__ = ["CannotCombine", "combine"]

_FAILURE_RANK = {Status.BROKEN: 0, Status.FAILED: 1}
_SOURCE_RANK = {source: rank for rank, source in enumerate(provenance.SOURCES)}
_OTHER_RANK = {Status.NOT_VERIFIABLE: 0, Status.SKIPPED: 1}


class CannotCombine(ConfigError):
    """The records cannot be merged into one (exit 2); the message says why."""


def _identity(document: dict[str, Any]) -> dict[str, Any]:
    return dict(document.get("integration_identity") or {})


def _check_combinable(documents: Sequence[tuple[str, dict[str, Any]]]) -> None:
    if len(documents) < 2:
        raise CannotCombine("--combine needs at least two readiness.json files (e.g. a sandbox run and a twin run)")
    for name, document in documents:
        if not verify_digest(document)[0]:
            raise CannotCombine(f"{name} does not match its digest (altered after the run); refusing to combine it")
        if document.get("schema_version") in ("1", "2") or not document.get("integration_identity"):
            raise CannotCombine(
                f"{name} was written before schema version 3 and does not record which integration and "
                "configuration it checked; run it again with this version of bluum-readiness"
            )
        if document.get("verdict") == "interrupted":
            raise CannotCombine(f"{name} is an interrupted run; run it again to the end before combining it")
    first_name, first = documents[0]
    for name, document in documents[1:]:
        if document.get("suite_version") != first.get("suite_version"):
            raise CannotCombine(
                f"{first_name} and {name} were recorded by different bluum-readiness versions "
                f"({first.get('suite_version')} and {document.get('suite_version')}); run both with one version"
            )
        mine, theirs = _identity(first), _identity(document)
        for key, what in (
            ("integration", "integrations"),
            ("module_sha256", "versions of the adapter module"),
            (
                "configuration",
                "configurations (thresholds, credential source or its declared key_created, webhooks, rotation or "
                "scan settings)",
            ),
        ):
            if mine.get(key) != theirs.get(key):
                raise CannotCombine(
                    f"{first_name} and {name} are runs of different {what} ({mine.get(key)} and {theirs.get(key)}); "
                    "combine only runs of the same integration under the same bluum-readiness.toml"
                )


def _rank(outcome: tuple[dict[str, Any], dict[str, Any]]) -> tuple[int, int]:
    """Lower wins (see the module docstring)."""
    check, where = outcome
    status = check["status"]
    if status in _FAILURE_RANK:
        return (0, _FAILURE_RANK[status])
    if status == Status.PASSED:
        return (1, _SOURCE_RANK.get(where["source"], 9))
    return (2, _OTHER_RANK.get(status, 9))


def _record_ref(document: dict[str, Any]) -> str:
    return f"sha256:{document['digest']['value'][:16]}"


def combine(documents: Sequence[tuple[str, dict[str, Any]]]) -> Any:
    """The combined ``RunReport`` of ``(name, validated readiness.json)`` pairs (``CannotCombine`` if refused);
    ``suite.results.write_json`` writes it with its own digest and request."""
    from bluum_readiness.suite.results import CheckResult, build_report

    _check_combinable(documents)
    outcomes: dict[str, list[tuple[dict[str, Any], dict[str, Any], dict[str, Any], str]]] = {}
    for _, document in documents:
        for item in document["items"]:
            for check in item["checks"]:
                where = provenance.check_provenance(document, check)
                outcomes.setdefault(check["id"], []).append((check, where, document, item["id"]))
    results = []
    for check_id, found in outcomes.items():
        check, where, _, item_id = min(found, key=lambda o: _rank((o[0], o[1])))
        result = CheckResult(
            nodeid=str(check.get("test", "")),
            item=item_id,
            id=check_id,
            title=check["title"],
            status=Status(check["status"]),
            severity=check["severity"],
            message=check.get("message") or check.get("reason"),
            expected=check.get("expected"),
            observed=check.get("observed"),
            fix=check.get("fix"),
            evidence=dict(check.get("evidence") or {}),
            duration_s=float(check.get("duration_s") or 0.0),
            provenance=where,
            runs=[{**w, "status": c["status"], "record": _record_ref(d)} for c, w, d, _ in found],
        )
        results.append(result)
    order = [i.id for i in checklist_items()]
    selected = {s for _, d in documents for s in d.get("selected") or []}
    with_checks = sorted({r.item for r in results if not r.id.endswith((".no-checks-yet", ".tests-collected"))})
    first = documents[0][1]
    real = next((d for _, d in documents if d["target"].get("mode") == "remote"), first)
    metadata = {
        "suite_version": first["suite_version"],
        "started": min(d["started"] for _, d in documents),
        "finished": max(d["finished"] for _, d in documents),
        "duration_s": round(sum(float(d.get("duration_s") or 0) for _, d in documents), 3),
        "target": dict(real["target"]),
        "integration": first["integration"],
        "integration_identity": _identity(first),
        "seed": first["seed"],
        "workers": first.get("workers", 0),
        "selected": [i for i in order if i in selected],
        "python": first.get("python", ""),
        "pytest": first.get("pytest", ""),
        "combined": [
            {
                "digest": d["digest"]["value"],
                "target": d["target"].get("url") or d["target"].get("host", ""),
                "verdict": d["verdict"],
                "seed": d["seed"],
                "started": d["started"],
                "finished": d["finished"],
                "file": str(Path(name)),
            }
            for name, d in documents
        ],
    }
    return build_report(
        [r for r in results if not r.id.endswith(".no-checks-yet")],
        selected=[i for i in order if i in selected],
        with_checks=with_checks,
        metadata=metadata,
    )
