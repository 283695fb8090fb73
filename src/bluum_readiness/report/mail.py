"""email.eml and email.txt: the production-access request to support@bluumfinance.com, with readiness.pdf.

Bluum asks for the company name, the dashboard account email, a description of the product and the integration
model, and confirmation of the checklist. Each checklist item gets one line: its status and its evidence
reference (the check ids, in readiness.json / readiness.pdf, under the report digest) and where it was proven
(``provenance``: "tested in sandbox" only for what ran against a real sandbox target; what the twin proved is
"proven against a local emulator of the sandbox, with faults injected"). Only the five readiness items are
confirmed; the cut-over items are rehearsals before access, listed as extra evidence, never "confirmed".
Nothing is claimed that the run did not prove. The email is the request only when ``provenance.request`` says
send-ready (every readiness item passed, nothing failed, the lifecycle proven against a real sandbox); otherwise
it is a *draft* marked DO NOT SEND that lists what is missing (docs/reports.md). An ``interrupted`` run and a
demonstration (the bundled reference integration) write no email at all (``render_all``).
"""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from bluum_readiness.config import CompanyConfig
from bluum_readiness.report import model, phases, provenance
from bluum_readiness.report.causes import count_line

__all__ = [
    "SUPPORT",
    "MissingCompany",
    "build_email",
    "is_request",
    "missing_company_keys",
    "missing_company_message",
]

SUPPORT = "support@bluumfinance.com"
COMPANY_KEYS = ("name", "dashboard_email", "product_description", "integration_model")
_EXAMPLE = {
    "name": '"Acme Invest"',
    "dashboard_email": '"ops@acme.example"',
    "product_description": '"Robo-advisor app for US retail investors"',
    "integration_model": '"server-to-server, omnibus"',
}


class MissingCompany(Exception):
    """The [company] details the email needs are incomplete."""


def missing_company_keys(company: CompanyConfig | None) -> list[str]:
    return (
        [key for key in COMPANY_KEYS if not (getattr(company, key, None) or "").strip()]
        if company
        else list(COMPANY_KEYS)
    )


def missing_company_message(missing: list[str], out_dir: Path | str) -> str:
    """One line: which keys are missing, how to set them, how to re-render."""
    example = "; ".join(f"{key} = {_EXAMPLE[key]}" for key in missing)
    return (
        f"email.eml/email.txt not written: [company] is missing {', '.join(missing)}. Add them to the [company] "
        f"table of bluum-readiness.toml ({example}), then run: "
        f"bluum-readiness report {Path(out_dir) / 'readiness.json'} --out {out_dir}"
    )


def _checks_passed(item: dict[str, Any]) -> str:
    checks = [c["id"] for c in item["checks"] if c["status"] == "passed"]
    return f"{len(checks)} check{'s' if len(checks) != 1 else ''} passed ({', '.join(checks)})"


def _item_line(document: dict[str, Any], item: dict[str, Any], digest: str, lifecycle_ok: bool) -> str:
    """One readiness item: confirmed (with where it was proven) or why not."""
    status = item["status"]
    head = f"{item['title']} ({item['id']})"
    evidence = f"evidence: readiness.pdf / readiness.json item {item['id']}, report {digest[:19]}"
    where = provenance.where(document, item)
    if status == "passed" and item["id"] == "lifecycle" and not lifecycle_ok:
        return f"[ ] {head}: not confirmed - {_checks_passed(item)}, {where}, not in Bluum's sandbox; {evidence}"
    if status == "passed":
        return f"[x] {head}: confirmed - {_checks_passed(item)}; {where}; {evidence}"
    if status == "failed":
        return f"[ ] {head}: FAILED - {', '.join(model.decided_by(item))} ({where}); {evidence}"
    if status == "skipped":
        return f"[ ] {head}: not run in this report ({item.get('reason', 'not selected')}) - not confirmed"
    if status == "not_applicable":
        return (
            f"[x] {head}: not applicable - the integration does not use Bluum webhooks (declared in its configuration)"
        )
    unjudged = model.decided_by(item)
    return (
        f"[ ] {head}: not verified by bluum-readiness ({item.get('reason', '')}; {', '.join(unjudged)}) - "
        "to be confirmed separately"
    )


def _cutover_line(document: dict[str, Any], item: dict[str, Any], rehearsal: bool) -> str:
    """One cut-over item: a rehearsal before access (never "confirmed"), or its run against production."""
    head = f"{item['title']} ({item['id']})"
    status = item["status"]
    if status == "skipped":
        return f"- {head}: not rehearsed in this report"
    where = provenance.where(document, item)
    if status == "passed":
        done = f"rehearsal passed ({_checks_passed(item)}), {where}" if rehearsal else f"passed, {where}"
    elif status == "failed":
        done = f"rehearsal FAILED ({', '.join(model.decided_by(item))}), {where}"
    else:
        done = f"rehearsal not verified ({item.get('reason', status)})"
    after = "; the real smoke test runs against production after access" if item["id"] == "smoke-test" else ""
    return f"- {head}: {done}{after}"


def is_request(document: dict[str, Any]) -> bool:
    """Whether the email may ask for production access (``provenance.request``): every readiness item passed,
    nothing failed, the lifecycle proven against a real sandbox, not a demonstration. Anything less is a draft
    marked DO NOT SEND."""
    return provenance.request(document).send_ready


def email_text(document: dict[str, Any], company: CompanyConfig) -> tuple[str, str]:
    """(subject, body) of the request."""
    digest = model.short_digest(document)
    verdict = model.verdict(document)
    assessed = provenance.request(document)
    ready = assessed.send_ready
    split = phases.phases(document)
    readiness, cutover = split[0], split[1]
    confirmed = sum(1 for i in readiness.items if i["status"] == "passed")
    lifecycle_ok = provenance.lifecycle_in_sandbox(document)
    if not lifecycle_ok and any(i["id"] == "lifecycle" and i["status"] == "passed" for i in readiness.items):
        confirmed -= 1
    name = company.name or ""
    if ready:
        subject = f"Production access request: {name} - Bluum readiness checklist READY"
    elif verdict == "interrupted":
        subject = f"DRAFT - DO NOT SEND: {name} - Bluum readiness run INTERRUPTED"
    elif verdict == "not_ready":
        subject = f"DRAFT - DO NOT SEND: {name} - Bluum readiness NOT READY"
    else:
        subject = (
            f"DRAFT - DO NOT SEND: {name} - Bluum readiness incomplete ({confirmed} of "
            f"{len(readiness.items)} readiness items confirmed)"
        )
    lines = []
    if not ready:
        lines += [f"DO NOT SEND. {model.verdict_line(document)}. Before this request can be sent:"]
        lines += [f"- {missing}" for missing in assessed.missing]
        groups = [g for g in model.cause_groups(document) if not g.advisory]
        if groups:  # one defect, however many checks it fails, is one thing to fix
            lines += [f"What failed, by cause ({count_line(groups)}):"]
            lines += [f"- {group.line()}" for group in groups]
        lines += [
            "Fix what failed (readiness.html or readiness.pdf shows expected, observed and the fix for each "
            "finding), run `bluum-readiness run` again, and send the email that run (or the combined report) writes."
            if verdict == "not_ready"
            else "Then send the email the complete run (or `bluum-readiness report --combine`) writes.",
            "",
        ]
    lines += [
        "Hello Bluum team,",
        "",
        f"{name} requests production access for its Bluum integration."
        if ready
        else f"{name} is preparing its request for production access; the readiness evidence below is not complete "
        "yet.",
        "",
        f"Company name: {name}",
        f"Dashboard account email: {company.dashboard_email}",
        f"Product: {company.product_description}",
        f"Integration model: {company.integration_model}",
        "",
        f"Readiness checklist, as verified by bluum-readiness {document['suite_version']} on {document['finished']} "
        f"(integration {document['integration']}, seed {document['seed']}); each line says where it was proven:",
        "",
    ]
    lines += [_item_line(document, item, digest, lifecycle_ok) for item in readiness.items]
    rehearsed = [i for i in cutover.items if i["status"] != "skipped"]
    if rehearsed:
        lines += [
            "",
            "Cut-over, rehearsed before production access as extra evidence (not part of the confirmation):"
            if cutover.rehearsal
            else "Cut-over, against production:",
        ]
        lines += [_cutover_line(document, item, cutover.rehearsal) for item in cutover.items]
    merged = document.get("combined") or []
    if merged:
        lines += ["", f"This report combines {len(merged)} runs of the same integration and configuration:"]
        lines += [f"- {r['target']}: {r['verdict']}, report sha256:{str(r['digest'])[:16]}" for r in merged]
    notes = [g for g in model.cause_groups(document) if g.advisory]
    if notes:  # beyond the checklist: never the verdict, worth a reviewer's eye
        lines += ["", "Notes beyond the checklist (advisory, not part of the confirmation):"]
        lines += [f"- {group.line()}" for group in notes]
    lines += [
        "",
        "The attached readiness.pdf lists every check with its evidence: the HTTP exchanges with their "
        "X-Request-Id, status and timing (long transcripts abridged; readiness.json holds all of them, with the "
        f"fault plans). Report digest: {digest} (SHA-256 over readiness.json; verify with "
        "`bluum-readiness report --verify readiness.json`).",
        "",
        "Best regards,",
        name,
        "",
    ]
    return subject, "\n".join(lines)


def build_email(document: dict[str, Any], company: CompanyConfig, pdf: bytes) -> tuple[EmailMessage, str]:
    """The .eml message (readiness.pdf attached) and the plain-text version; MissingCompany if details lack."""
    missing = missing_company_keys(company)
    if missing:
        raise MissingCompany(", ".join(missing))
    subject, body = email_text(document, company)
    message = EmailMessage(policy=SMTP)
    message["From"] = str(company.dashboard_email)
    message["To"] = SUPPORT
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.fromisoformat(document["finished"]))
    message["Message-ID"] = f"<readiness-{document['digest']['value'][:32]}@bluum-readiness.local>"
    if not is_request(document):
        message["X-Unsent"] = "1"  # opens as an unsent draft in mail clients that honour it
    message["X-Bluum-Readiness-Digest"] = model.short_digest(document)
    message.set_content(body)
    message.add_attachment(pdf, maintype="application", subtype="pdf", filename="readiness.pdf")
    message.set_boundary(f"=_bluum-readiness-{document['digest']['value'][:24]}")
    text = f"To: {SUPPORT}\nSubject: {subject}\nAttach: readiness.pdf\n\n{body}"
    return message, text
