"""email.eml and email.txt: the production-access request to support@bluumfinance.com, with readiness.pdf.

Bluum asks for the company name, the dashboard account email, a description of the product and the integration
model, and confirmation of the checklist. Each checklist item gets one line: its status and its evidence
reference (the check ids, in readiness.json / readiness.pdf, under the report digest). Nothing is claimed that
the run did not prove: items without checks or not selected say so. Only a ``ready`` run (all eight items ran and
passed) writes the request; a ``not_ready`` run writes a *draft* marked DO NOT SEND that lists what failed
instead of confirming anything, and so does a ``passed`` run (a partial ``--only`` run, or not-verifiable
checks): Bluum asks for the whole checklist (docs/reports.md). An ``interrupted`` run writes no email at all
(``render_all``).
"""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from bluum_readiness.config import CompanyConfig
from bluum_readiness.report import model

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


def _item_line(item: dict[str, Any], digest: str) -> str:
    checks = [c["id"] for c in item["checks"]]
    status = item["status"]
    head = f"{item['title']} ({item['id']})"
    evidence = f"evidence: readiness.pdf / readiness.json item {item['id']}, report {digest[:19]}"
    if status == "passed":
        counted = f"{len(checks)} check{'s' if len(checks) != 1 else ''} passed"
        return f"[x] {head}: confirmed - {counted} ({', '.join(checks)}); {evidence}"
    if status == "failed":
        return f"[ ] {head}: FAILED - {', '.join(model.decided_by(item))}; {evidence}"
    if status == "skipped":
        return f"[ ] {head}: not run in this report ({item.get('reason', 'not selected')}) - not confirmed"
    unjudged = model.decided_by(item)
    return (
        f"[ ] {head}: not verified by bluum-readiness ({item.get('reason', '')}; {', '.join(unjudged)}) - "
        "to be confirmed separately"
    )


def is_request(document: dict[str, Any]) -> bool:
    """Whether the email may ask for production access: the run is ready and confirms every checklist item.
    Anything less is a draft marked DO NOT SEND."""
    return model.verdict(document) == "ready" and all(i["status"] == "passed" for i in document["items"])


def email_text(document: dict[str, Any], company: CompanyConfig) -> tuple[str, str]:
    """(subject, body) of the request."""
    digest = model.short_digest(document)
    verdict = model.verdict(document)
    verdict_ready = verdict in ("ready", "passed")  # nothing failed
    unconfirmed = [i["id"] for i in document["items"] if i["status"] != "passed"]
    ready = is_request(document)
    name = company.name or ""
    if ready:
        subject = f"Production access request: {name} - Bluum readiness checklist READY"
    elif verdict_ready:
        confirmed = len(document["items"]) - len(unconfirmed)
        subject = (
            f"DRAFT - DO NOT SEND: {name} - Bluum readiness incomplete ({confirmed} of "
            f"{len(document['items'])} items confirmed)"
        )
    elif verdict == "interrupted":
        subject = f"DRAFT - DO NOT SEND: {name} - Bluum readiness run INTERRUPTED"
    else:
        subject = f"DRAFT - DO NOT SEND: {name} - Bluum readiness NOT READY"
    lines = []
    if verdict == "interrupted":
        lines += [
            f"DO NOT SEND. {model.verdict_line(document)}.",
            "Run `bluum-readiness run` again to the end, and send the email that run writes.",
            "",
        ]
    elif not verdict_ready:
        failed = [i["id"] for i in document["items"] if i["status"] == "failed"]
        lines += [
            "DO NOT SEND. This run is NOT READY"
            + (f": {', '.join(failed)} failed." if failed else ": no check passed."),
            "Fix what failed (readiness.html or readiness.pdf shows expected, observed and the fix for each "
            "finding), run `bluum-readiness run` again, and send the email that run writes.",
            "",
        ]
    elif not ready:
        lines += [
            f"DO NOT SEND. {model.verdict_line(document)}: Bluum asks for every checklist item; this run does not "
            f"confirm {', '.join(unconfirmed)} (not selected, or a check could not judge: readiness.html says why).",
            "Run `bluum-readiness run` on every item (no --only), give the adapter the capabilities the "
            "not-verifiable checks name, and send the email that run writes.",
            "",
        ]
    lines += [
        "Hello Bluum team,",
        "",
        f"{name} requests production access for its Bluum integration."
        if ready
        else f"{name} is preparing its request for production access; the readiness run below is not ready yet.",
        "",
        f"Company name: {name}",
        f"Dashboard account email: {company.dashboard_email}",
        f"Product: {company.product_description}",
        f"Integration model: {company.integration_model}",
        "",
        f"Readiness checklist, as verified by bluum-readiness {document['suite_version']} on {document['finished']} "
        f"against the {model.environment_label(document)} (integration {document['integration']}, seed "
        f"{document['seed']}):",
        "",
    ]
    lines += [_item_line(item, digest) for item in document["items"]]
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
