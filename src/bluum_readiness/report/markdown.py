"""readiness.md: the report for pull requests and tickets (GitHub-flavoured Markdown tables)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from bluum_readiness.catalog import causes
from bluum_readiness.report import model, phases, provenance
from bluum_readiness.report.causes import count_line

__all__ = ["render_markdown", "write_markdown"]

MAX_ROWS = 25  # transcript rows per finding; the rest stay in readiness.json
_ICON = {"passed": "✅", "failed": "❌", "broken": "💥", "not_verifiable": "❔", "skipped": "➖", "not_applicable": "∅"}


# What makes Markdown of inline text (GitHub-flavoured): emphasis, code, links and images, raw HTML and entities,
# strikethrough, table cells. Block syntax (#, -, 1., >) only counts at the start of a line, and every text here is
# put on one line behind a prefix of ours, so it never starts one.
_INLINE = re.compile(r"([\\`*_\[\]<>|~])")


def _text(value: Any) -> str:
    """``value`` as literal text on one line: what a check, an integration or a target wrote (an exception message,
    a path, a host) is shown as written, never read as Markdown or HTML (a ``|`` cannot break a table, a ``<details>``
    or ``</details>`` cannot fold the page, a ``[link](…)`` is not a link)."""
    one_line = " ".join(str(value).split())
    return _INLINE.sub(r"\\\1", one_line.replace("&", "&amp;"))


def _code(value: Any, cell: bool = False) -> str:
    """``value`` as an inline code span that holds it whatever it contains (backticks included), on one line. In a
    table ``cell`` a ``|`` still ends the cell (GitHub splits rows before reading code spans), so it is escaped."""
    text = " ".join(str(value).split())
    if cell:
        text = text.replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or longest else ""
    return f"{fence}{pad}{text}{pad}{fence}"


_cell = _text


def _transcript(check: dict[str, Any]) -> list[str]:
    rows = model.exchange_rows(check)
    if not rows:
        return []
    lines = ["", "| # | method | path | status | X-Request-Id | ms | fault / note |", "|---|---|---|---|---|---|---|"]
    for x in rows[:MAX_ROWS]:
        note = " ".join(p for p in (x["fault"], x["note"]) if p)
        lines.append(
            f"| {_text(x['seq'])} | {_text(x['method'])} | {_code(x['path'], cell=True)} | {_text(x['status'])} | "
            f"{_code(x['request_id'], cell=True)} | {_text(x['ms'])} | {_text(note)} |"
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
    who = f" — {_text(company_name)}" if company_name else ""
    out = [
        f"# Bluum production readiness{who}: **{_text(model.verdict_word(document))}**",
        "",
        f"**Verdict:** {_text(model.verdict_line(document))}",
        "",
        _request_line(document),
        "",
        f"- Environment: {_text(model.environment_label(document))}",
        f"- Integration: {_code(document['integration'])}"
        + (f" — {provenance.DEMONSTRATION}" if provenance.is_demonstration(document) else ""),
        *[
            f"- Combined run: {_text(r['target'])} · {_text(r['verdict'])} · `sha256:{_text(str(r['digest'])[:16])}`"
            for r in document.get("combined") or []
        ],
        f"- Run: {_text(document['started'])} → {_text(document['finished'])} · seed {_text(document['seed'])} · "
        f"bluum-readiness {_text(document['suite_version'])}",
        "- Checks: "
        + ", ".join(f"{_text(n)} {_text(s.replace('_', ' '))}" for s, n in document["counts"].items() if n),
        f"- Evidence digest: {_code(model.short_digest(document))} (`bluum-readiness report --verify readiness.json`)",
    ]
    for phase in phases.phases(document):
        out += [
            "",
            f"## {phase.title}",
            "",
            f"{_text(phase.line)}",
            "",
            "| | Item | Status | Checks | Proven | Why |",
            "|---|---|---|---|---|---|",
        ]
        for item in phase.items:
            passed = sum(1 for c in item["checks"] if c["status"] == "passed")
            out.append(
                f"| {_ICON.get(item['status'], '')} | {_text(item['title'])} ({_code(item['id'], cell=True)}) | "
                f"{_text(phases.status_label(document, item).lower())} | {passed}/{len(item['checks'])} | "
                f"{_text(provenance.where(document, item))} | {_text(item.get('reason', ''))} |"
            )
    out += _causes(document)
    found = model.findings(document)
    if found:
        out += ["", "## What to fix", ""]
        for item, check in found:
            advisory = " (advisory)" if check["severity"] != "required" else ""
            out += [f"### {_ICON[check['status']]} {_code(check['id'])} — {_text(check['title'])}{advisory}", ""]
            cause = causes().get(check.get("cause") or "")
            because = f" Cause: **{_text(cause.title)}** (`{cause.id}`)." if cause else ""
            proven = provenance.describe(provenance.check_provenance(document, check))
            out.append(
                f"Item {_code(item['id'])}, {_text(check['status'].replace('_', ' '))}; {_text(proven)}.{because}"
            )
            for label, key in (("Expected", "expected"), ("Observed", "observed"), ("Fix", "fix")):
                if check.get(key):
                    out.append(f"- **{label}:** {_text(check[key])}")
            if check.get("reason") and not check.get("observed"):
                out.append(f"- **Reason:** {_text(check['reason'])}")
            out.append(f"- **Evidence:** {_code(model.check_reference(document, check))}")
            out += _transcript(check)
            out.append("")
    out += _runbooks(document)
    out += ["", "<details><summary>Every check</summary>", ""]
    for item in document["items"]:
        for check in item["checks"]:
            proven = provenance.describe(provenance.check_provenance(document, check))
            out.append(
                f"- {_ICON.get(check['status'], '')} {_code(check['id'])} — {_text(check['title'])} ({_text(proven)})"
            )
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
            out += ["", f"## Runbook: {_text(runbook.get('title', check['title']))}", ""]
            out += [f"{n}. {_text(step)}" for n, step in enumerate(runbook["steps"], 1)]
            if runbook.get("rollback"):
                out += ["", f"**Rollback:** {_text(runbook['rollback'])}"]
            if runbook.get("document"):
                out += ["", f"The long form: {_code(runbook['document'])} in bluum-readiness."]
    return out


def write_markdown(document: dict[str, Any], out_dir: Path, company_name: str | None = None) -> Path:
    path = out_dir / "readiness.md"
    path.write_text(render_markdown(document, company_name), encoding="utf-8")
    return path
