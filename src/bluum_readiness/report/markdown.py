"""readiness.md: the report for pull requests and tickets (GitHub-flavoured Markdown tables)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bluum_readiness.catalog import causes
from bluum_readiness.report import model, phases, provenance
from bluum_readiness.report.causes import count_line

__all__ = ["render_markdown", "write_markdown"]

MAX_ROWS = 25  # transcript rows per finding; the rest stay in readiness.json
_ICON = {"passed": "✅", "failed": "❌", "broken": "💥", "not_verifiable": "❔", "skipped": "➖"}


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _transcript(check: dict[str, Any]) -> list[str]:
    rows = model.exchange_rows(check)
    if not rows:
        return []
    lines = ["", "| # | method | path | status | X-Request-Id | ms | fault / note |", "|---|---|---|---|---|---|---|"]
    for x in rows[:MAX_ROWS]:
        note = " ".join(p for p in (x["fault"], x["note"]) if p)
        lines.append(
            f"| {x['seq']} | {x['method']} | `{_cell(x['path'])}` | {x['status']} | `{x['request_id']}` | "
            f"{x['ms']} | {_cell(note)} |"
        )
    if len(rows) > MAX_ROWS:
        lines.append(f"\n…and {len(rows) - MAX_ROWS} more exchanges in `readiness.json`.")
    return lines


def _causes(document: dict[str, Any]) -> list[str]:
    """The findings grouped by cause: one defect, however many checks it fails, is one line."""
    groups = model.cause_groups(document)
    if not groups:
        return []
    out = ["", f"## Causes ({count_line(groups)})", ""]
    for group in groups:
        named = ", ".join(f"`{check}`" for check in group.checks)
        verb = "flags (advisory)" if group.advisory else "fails"
        explains = f": {_cell(group.explains)}" if group.id else ""
        out.append(f"- **{_cell(group.title)}** — {verb} {named}{explains}")
    return out


def render_markdown(document: dict[str, Any], company_name: str | None = None) -> str:
    who = f" — {company_name}" if company_name else ""
    out = [
        f"# Bluum production readiness{who}: **{model.verdict_word(document)}**",
        "",
        f"**Verdict:** {model.verdict_line(document)}",
        "",
        _request_line(document),
        "",
        f"- Environment: {model.environment_label(document)}",
        f"- Integration: `{document['integration']}`"
        + (f" — {provenance.DEMONSTRATION}" if provenance.is_demonstration(document) else ""),
        *[
            f"- Combined run: {_cell(r['target'])} · {r['verdict']} · `sha256:{str(r['digest'])[:16]}`"
            for r in document.get("combined") or []
        ],
        f"- Run: {document['started']} → {document['finished']} · seed {document['seed']} · "
        f"bluum-readiness {document['suite_version']}",
        "- Checks: " + ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in document["counts"].items() if n),
        f"- Evidence digest: `{model.short_digest(document)}` (`bluum-readiness report --verify readiness.json`)",
    ]
    for phase in phases.phases(document):
        out += [
            "",
            f"## {phase.title}",
            "",
            f"{phase.line}",
            "",
            "| | Item | Status | Checks | Proven | Why |",
            "|---|---|---|---|---|---|",
        ]
        for item in phase.items:
            passed = sum(1 for c in item["checks"] if c["status"] == "passed")
            out.append(
                f"| {_ICON.get(item['status'], '')} | {_cell(item['title'])} (`{item['id']}`) | "
                f"{phases.status_label(document, item).lower()} | {passed}/{len(item['checks'])} | "
                f"{_cell(provenance.where(document, item))} | {_cell(item.get('reason', ''))} |"
            )
    out += _causes(document)
    found = model.findings(document)
    if found:
        out += ["", "## What to fix", ""]
        for item, check in found:
            advisory = " (advisory)" if check["severity"] != "required" else ""
            out += [f"### {_ICON[check['status']]} `{check['id']}` — {check['title']}{advisory}", ""]
            cause = causes().get(check.get("cause") or "")
            because = f" Cause: **{cause.title}** (`{cause.id}`)." if cause else ""
            proven = provenance.describe(provenance.check_provenance(document, check))
            out.append(f"Item `{item['id']}`, {check['status'].replace('_', ' ')}; {proven}.{because}")
            for label, key in (("Expected", "expected"), ("Observed", "observed"), ("Fix", "fix")):
                if check.get(key):
                    out.append(f"- **{label}:** {check[key]}")
            if check.get("reason") and not check.get("observed"):
                out.append(f"- **Reason:** {check['reason']}")
            out.append(f"- **Evidence:** `{model.check_reference(document, check)}`")
            out += _transcript(check)
            out.append("")
    out += _runbooks(document)
    out += ["", "<details><summary>Every check</summary>", ""]
    for item in document["items"]:
        for check in item["checks"]:
            proven = provenance.describe(provenance.check_provenance(document, check))
            out.append(f"- {_ICON.get(check['status'], '')} `{check['id']}` — {check['title']} ({_cell(proven)})")
    out += ["", "</details>", ""]
    return "\n".join(out)


def _request_line(document: dict[str, Any]) -> str:
    assessed = provenance.request(document)
    if assessed.send_ready:
        return "**Production-access request:** ready to send."
    if provenance.is_demonstration(document):
        return f"**Production-access request:** none — this run checked {provenance.DEMONSTRATION}."
    return "**Production-access request:** a DRAFT, not to be sent yet: " + "; ".join(
        _cell(m) for m in assessed.missing
    )


def _runbooks(document: dict[str, Any]) -> list[str]:
    """A check's runbook (the rotation drill's), as numbered steps: what to do in production."""
    out: list[str] = []
    for item in document["items"]:
        for check in item["checks"]:
            runbook = (check.get("evidence") or {}).get("runbook")
            if not isinstance(runbook, dict) or not runbook.get("steps"):
                continue
            out += ["", f"## Runbook: {runbook.get('title', check['title'])}", ""]
            out += [f"{n}. {step}" for n, step in enumerate(runbook["steps"], 1)]
            if runbook.get("rollback"):
                out += ["", f"**Rollback:** {runbook['rollback']}"]
            if runbook.get("document"):
                out += ["", f"The long form: `{runbook['document']}` in bluum-readiness."]
    return out


def write_markdown(document: dict[str, Any], out_dir: Path, company_name: str | None = None) -> Path:
    path = out_dir / "readiness.md"
    path.write_text(render_markdown(document, company_name), encoding="utf-8")
    return path
