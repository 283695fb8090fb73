"""Where each check was proven, and whether the production-access request may be sent.

A check's ``provenance`` (readiness.json, schema version 3) is ``{"source": ..., "target": ...}``:

- ``sandbox``: it ran against a real target URL that is not Bluum's production (Bluum's sandbox, or any URL the
  team pointed the run at): ``target`` is that URL;
- ``production``: it ran against Bluum's production API (only the read-only smoke test does);
- ``twin``: it ran against the local twin the run started (``target`` ``embedded``): a local emulator of the
  sandbox, with faults injected;
- ``static``: it read the team's files, not an API (the secret scan): ``target`` None;
- ``declared``: it judged what the team declared in its configuration, because no API shows it (the age of the
  team's own key pair, ``[credentials] key_created``): ``target`` is the setting and its value. Never worded as
  proven: a reviewer at Bluum can check it against Bluum's own records.

Records of schema versions 1 and 2 have no provenance: it is derived from their ``target`` (every check ran there,
the secret scan excepted). ``request`` decides whether the email may ask for production access (``send_ready``) and
lists what is missing otherwise; the rule is in docs/reports.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "DEMONSTRATION",
    "SOURCES",
    "STATIC_CHECKS",
    "Request",
    "check_provenance",
    "describe",
    "is_demonstration",
    "item_sources",
    "lifecycle_in_sandbox",
    "of_target",
    "outcomes",
    "request",
]

SOURCES = ("sandbox", "production", "twin", "static", "declared")  # the order outputs list them in
STATIC_CHECKS = frozenset({"credentials.no-secrets-in-code"})
"""The checks that read files, never the API (the registry's ``static=True``; kept here for records written before
checks recorded their provenance, and held equal to the registry by a test)."""
DEMONSTRATION = "the bundled reference integration (a demonstration, not your code)"
TWIN_WORDS = "proven against a local emulator of the sandbox, with faults injected"
SANDBOX_EXAMPLE = "https://sandbox.api.bluumfinance.com/v1"


def of_target(
    target: Mapping[str, Any],
    check_id: str | None = None,
    *,
    static: bool = False,
    declared: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The provenance of a check that ran against ``target`` (readiness.json's ``target``); ``static`` for one that
    read the team's files (known by id for older records); ``declared`` (its evidence's ``declared``: ``setting``,
    ``value``) for one that judged the team's declaration."""
    if declared:
        return {"source": "declared", "target": f"{declared.get('setting')} = {declared.get('value')}"}
    if static or check_id in STATIC_CHECKS:
        return {"source": "static", "target": None}
    if target.get("mode") == "embedded":
        return {"source": "twin", "target": "embedded"}
    url = target.get("url") or f"https://{target.get('host', '')}/v1"
    source = "production" if target.get("environment") == "production" else "sandbox"
    return {"source": source, "target": url}


def check_provenance(document: Mapping[str, Any], check: Mapping[str, Any]) -> dict[str, Any]:
    """The check's recorded provenance, or (schema versions 1, 2) the one its record's target implies."""
    recorded = check.get("provenance")
    if isinstance(recorded, dict) and recorded.get("source") in SOURCES:
        return dict(recorded)
    return of_target(document.get("target") or {}, str(check.get("id")))


def outcomes(document: Mapping[str, Any], check: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every run of the check a record holds: ``runs`` in a combined record, else the one it shows."""
    runs = check.get("runs")
    if isinstance(runs, list) and runs:
        return [dict(r) for r in runs]
    return [{**check_provenance(document, check), "status": check.get("status")}]


def _ran(check: Mapping[str, Any]) -> bool:
    return check.get("status") != "skipped"


def item_sources(document: Mapping[str, Any], item: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The distinct provenances of the item's checks that ran, in ``SOURCES`` order."""
    found: dict[tuple[str, Any], dict[str, Any]] = {}
    for check in item.get("checks", []):
        if _ran(check):
            p = check_provenance(document, check)
            found.setdefault((p["source"], p.get("target")), p)
    return sorted(found.values(), key=lambda p: (SOURCES.index(p["source"]), str(p.get("target"))))


def describe(provenance: Mapping[str, Any]) -> str:
    """How a reader sees one provenance, e.g. ``tested in sandbox (https://…/v1)``."""
    source = provenance.get("source")
    if source == "sandbox":
        return f"tested in sandbox ({provenance.get('target')})"
    if source == "production":
        return f"run against production ({provenance.get('target')})"
    if source == "twin":
        return TWIN_WORDS
    if source == "declared":
        return f"declared by the team in {provenance.get('target')}, not observed: Bluum's API does not show it"
    return "static: a secret scan of the code, config files and git history"


def short(document: Mapping[str, Any], item: Mapping[str, Any]) -> str:
    """Where an item was proven, in a word per provenance (the console's column): ``twin + static``,
    ``sandbox https://…/v1``."""
    words = []
    for p in item_sources(document, item):
        words.append(f"{p['source']} {p['target']}" if p["source"] in ("sandbox", "production") else p["source"])
    return " + ".join(words)


LEGEND = (
    "twin: proven against a local emulator of the sandbox, with faults injected; sandbox: tested against the "
    "real target URL shown; static: a secret scan of the code, config files and git history; declared: what the "
    "team's configuration declares where no API shows it (its key pair's creation date), not observed"
)


def where(document: Mapping[str, Any], item: Mapping[str, Any]) -> str:
    """Where an item was proven, one phrase per provenance with the checks it covers when there are several:
    ``tested in sandbox (https://…/v1): lifecycle.journey; proven against a local emulator …: lifecycle.x``."""
    sources = item_sources(document, item)
    if not sources:
        return "not run"
    if len(sources) == 1:
        return describe(sources[0])
    parts = []
    for p in sources:
        ids = [
            c["id"]
            for c in item["checks"]
            if _ran(c)
            and (check_provenance(document, c)["source"], check_provenance(document, c).get("target"))
            == (p["source"], p.get("target"))
        ]
        parts.append(f"{describe(p)}: {', '.join(ids)}")
    return "; ".join(parts)


def is_demonstration(document: Mapping[str, Any]) -> bool:
    identity = document.get("integration_identity")
    return bool(isinstance(identity, dict) and identity.get("demonstration"))


@dataclass(frozen=True)
class Request:
    """Whether the production-access email may be sent, and what is missing when it may not."""

    send_ready: bool
    missing: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"send_ready": self.send_ready, "missing": list(self.missing)}


def lifecycle_in_sandbox(document: Mapping[str, Any]) -> bool:
    """Whether the record's lifecycle item was proven against a real sandbox (see ``_lifecycle_in_sandbox``)."""
    item = next((i for i in document.get("items", []) if i.get("id") == "lifecycle"), None)
    return item is not None and _lifecycle_in_sandbox(document, item)


def _lifecycle_in_sandbox(document: Mapping[str, Any], item: Mapping[str, Any]) -> bool:
    """Every lifecycle check ran against a real sandbox: it passed there, or it could not be judged there (a
    twin-only check: the money ledger) and passed elsewhere; and at least one passed there."""
    any_there = False
    for check in item.get("checks", []):
        there = [o for o in outcomes(document, check) if o.get("source") == "sandbox"]
        if any(o.get("status") == "passed" for o in there):
            any_there = True
            continue
        if not (any(o.get("status") == "not_verifiable" for o in there) and check.get("status") == "passed"):
            return False
    return any_there


def combine_hint(document: Mapping[str, Any]) -> str:
    return (
        f"run `bluum-readiness run --phase readiness --target {SANDBOX_EXAMPLE} --out sandbox-out` with your "
        "sandbox key pair, then `bluum-readiness report --combine sandbox-out/readiness.json "
        "readiness-out/readiness.json --out combined-out`"
    )


def _remote_only(document: Mapping[str, Any]) -> bool:
    """A single run against a real target (no twin evidence in it)."""
    return (document.get("target") or {}).get("mode") == "remote" and not document.get("combined")


def request(document: Mapping[str, Any], readiness: Iterable[str] | None = None) -> Request:
    """Send-ready only when the record is not a demonstration nor interrupted, every readiness item passed, no
    selected item failed (a cut-over rehearsal included: no failure is hidden), and the lifecycle was proven
    against a real sandbox. Otherwise the email is a DRAFT listing ``missing``."""
    items = {i["id"]: i for i in document.get("items", [])}
    wanted = list(readiness) if readiness is not None else [i for i, v in items.items() if v.get("kind") == "readiness"]
    missing: list[str] = []
    if is_demonstration(document):
        missing.append(f"this run checked {DEMONSTRATION}: configure your integration (`bluum-readiness init`)")
    if document.get("verdict") == "interrupted":
        missing.append("the run was interrupted: run it again to the end")
    for item_id in wanted:
        item = items.get(item_id)
        status = item.get("status") if item else "skipped"
        if item is None or status == "skipped":
            missing.append(f"{item_id}: not run")
        elif status == "failed":
            why = ", ".join(item.get("decided_by") or []) or item.get("reason", "")
            missing.append(f"{item_id}: failed ({why})")
        elif status not in ("passed", "not_applicable"):
            twin_hint = (
                "; checks that need the twin's sandbox controls are proven by a twin run of the same integration: "
                "combine the two records with `bluum-readiness report --combine`"
                if _remote_only(document)
                else ""
            )
            missing.append(f"{item_id}: not verified ({item.get('reason', status)}){twin_hint}")
    for item_id, item in items.items():
        if item_id not in wanted and item.get("status") == "failed":
            missing.append(f"{item_id}: the cut-over rehearsal failed; fix it before requesting access")
    lifecycle = items.get("lifecycle")
    if "lifecycle" in wanted and lifecycle is not None and lifecycle.get("status") == "passed":
        if not _lifecycle_in_sandbox(document, lifecycle):
            missing.append(
                "lifecycle: proven against the local emulator only; Bluum asks for the full lifecycle tested in "
                f"its sandbox: {combine_hint(document)}"
            )
    return Request(not missing, missing)
