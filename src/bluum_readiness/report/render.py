"""``render_all``: every output of a run, from the readiness.json document, into one folder."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bluum_readiness.config import CompanyConfig
from bluum_readiness.report import allure, html, junit, mail, markdown, model, pdf, provenance
from bluum_readiness.report.printable import shown_data

__all__ = ["Rendered", "render_all"]


@dataclass
class Rendered:
    """What ``render_all`` wrote, and why the email was not written (None when it was)."""

    files: list[Path] = field(default_factory=list)
    email_skipped: str | None = None
    needs_company: bool = False  # the email is missing only for want of [company] details (a usage error)


def render_all(document: dict[str, Any], out_dir: str | Path, company: CompanyConfig | None) -> Rendered:
    """Write readiness.html, .pdf, .md, junit.xml, allure-results/ and (with complete ``[company]`` details, unless
    the run was interrupted or a demonstration) email.eml and email.txt into ``out_dir``. ``document`` is a validated
    readiness.json (``model.load_report``). An email an earlier run left in ``out_dir`` never survives one that is
    not written. Every text is rendered as ``printable.shown`` shows it (a control character from the integration would
    make junit.xml invalid XML); readiness.json keeps it as it was.
    """
    document = shown_data(document)
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    name = company.name if company is not None else None
    done = Rendered()
    done.files.append(html.write_html(document, folder, name))
    pdf_bytes = pdf.render_pdf(document, name)
    (folder / "readiness.pdf").write_bytes(pdf_bytes)
    done.files.append(folder / "readiness.pdf")
    done.files.append(markdown.write_markdown(document, folder, name))
    done.files.append(junit.write_junit(document, folder))
    done.files.append(allure.write_allure(document, folder))
    missing = mail.missing_company_keys(company)
    interrupted = model.verdict(document) == "interrupted"
    demonstration = provenance.is_demonstration(document)
    if missing or interrupted or demonstration:
        for stale in ("email.eml", "email.txt"):  # never leave an email from an earlier run next to this report
            (folder / stale).unlink(missing_ok=True)
        if demonstration:
            done.email_skipped = (
                f"email.eml/email.txt not written: this run checked {provenance.DEMONSTRATION}; run "
                "`bluum-readiness init` to configure your integration, then `bluum-readiness run`"
            )
        elif interrupted:
            done.email_skipped = (
                "email.eml/email.txt not written: the run was interrupted, so there is nothing to request yet; "
                "run `bluum-readiness run` again to the end"
            )
        else:
            done.email_skipped, done.needs_company = mail.missing_company_message(missing, folder), True
        return done
    assert company is not None
    message, text = mail.build_email(document, company, pdf_bytes)
    (folder / "email.eml").write_bytes(message.as_bytes())
    (folder / "email.txt").write_text(text, encoding="utf-8")
    done.files += [folder / "email.eml", folder / "email.txt"]
    return done
