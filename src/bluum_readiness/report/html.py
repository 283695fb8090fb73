"""readiness.html: one self-contained page (inline CSS and SVG, no scripts, no network) from the report model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2

from bluum_readiness.catalog import causes as catalogued_causes
from bluum_readiness.catalog import items as checklist_items
from bluum_readiness.report import charts, model, phases, provenance
from bluum_readiness.report.causes import count_line

__all__ = ["render_html", "write_html"]

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("bluum_readiness.report", "templates"),
    autoescape=jinja2.select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def verdict_sentence(document: dict[str, Any]) -> str:
    """The verdict line and what it means for the production-access request (HTML banner, PDF title page)."""
    line = model.verdict_line(document)
    verdict = model.verdict(document)
    if verdict == "ready":
        why = "Every readiness item ran and passed, and nothing failed: what the production-access email confirms."
    elif verdict == "passed":
        why = (
            "Nothing failed, but this is not READY: READY means all five readiness items ran and passed, and only "
            "such evidence makes the production-access request."
        )
    elif verdict == "interrupted":
        why = "The run was stopped before the end: the checks that finished are below; nothing is concluded."
    elif model.coverage(document).failed:
        why = "See “What to fix” below."
    else:
        why = "No check passed, so nothing was proven."
    return f"{line}. {why}"


def _other_evidence(check: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in (check.get("evidence") or {}).items() if k not in ("exchanges", "seed")}


def render_html(document: dict[str, Any], company_name: str | None = None) -> str:
    template = _ENV.get_template("report.html.j2")
    return template.render(
        r=document,
        company_name=company_name,
        verdict=model.verdict(document),
        verdict_word=model.verdict_word(document),
        verdict_sentence=verdict_sentence(document),
        environment=model.environment_label(document),
        digest=model.short_digest(document),
        labels=model.STATUS_LABELS,
        findings=model.findings(document),
        causes=model.cause_groups(document),
        cause_count=count_line(model.cause_groups(document)),
        cause_titles={c.id: c.title for c in catalogued_causes().values()},
        charts=charts.charts(document),
        asks={i.id: i.asks for i in checklist_items()},
        reference=lambda check: model.check_reference(document, check),
        transcript=model.exchange_rows,
        other_evidence=_other_evidence,
        phases=phases.phases(document),
        status_label=lambda item: phases.status_label(document, item),
        where=lambda item: provenance.where(document, item),
        proven=lambda check: provenance.describe(provenance.check_provenance(document, check)),
        request=provenance.request(document),
        demonstration=provenance.is_demonstration(document),
        demonstration_words=provenance.DEMONSTRATION,
    )


def write_html(document: dict[str, Any], out_dir: Path, company_name: str | None = None) -> Path:
    path = out_dir / "readiness.html"
    path.write_text(render_html(document, company_name), encoding="utf-8")
    return path
