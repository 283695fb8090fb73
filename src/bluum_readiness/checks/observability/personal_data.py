"""``observability.no-personal-data-in-logs`` (advisory): no investor's tax id, date of birth, bank account or
routing number — as given, as digits or in base64 — in the integration's logs, exception texts, ``request_log()``
or ``alerts()``."""

from __future__ import annotations

import base64

from bluum_readiness.checks import _logs
from bluum_readiness.checks._support import exception_text, read_capability
from bluum_readiness.checks.judge import Facts, Finding, Unjudged, Verdict, judged
from bluum_readiness.checks.observability._captured import ITEM, marked, suite_secrets
from bluum_readiness.checks.observation import Scene, scenario
from bluum_readiness.failures import Severity
from bluum_readiness.proxy.faults import StatusFault
from bluum_readiness.proxy.rules import FaultRule
from bluum_readiness.testing import investor_profile, manual_bank

PERSONAL_DATA = {
    "tax_id": "521-83-4067",
    "date_of_birth": "1957-03-19",
    "account_number": "004826173951",
    "routing_number": "021000021",
}
"""Distinctive personal and account data the suite hands the integration (an investor and a manual bank), so a log
that carries them is found and nothing else matches."""


def _forms(value: str) -> dict[str, str]:
    """The forms of ``value`` a log may carry it in: as given, its digits alone, and base64 (reversible all)."""
    digits = "".join(c for c in value if c.isdigit())
    return {"as given": value, "digits only": digits, "base64": base64.b64encode(value.encode()).decode()}


@scenario("personal-data", facts=("sources",))
def _personal_data(s: Scene) -> None:
    """An investor and a manual bank with ``PERSONAL_DATA`` created through the integration, each request answered
    once with a 5xx first (so a client that logs whole failed requests or error bodies does so), then everything the
    integration wrote: its log entries, its exceptions' texts, ``request_log()`` and ``alerts()`` (secrets marked)."""
    h = s.h
    integration = s.integration
    secrets = suite_secrets(h)
    profile = investor_profile(tax_id=PERSONAL_DATA["tax_id"], date_of_birth=PERSONAL_DATA["date_of_birth"])
    bank = manual_bank(account_number=PERSONAL_DATA["account_number"], routing_number=PERSONAL_DATA["routing_number"])
    rules = (
        FaultRule("pii-investor", StatusFault(500), method="POST", path="/v1/investors", first=1),
        FaultRule("pii-bank", StatusFault(503), method="POST", path="/v1/investors/*/funding-sources/*", first=1),
    )
    raised: list[tuple[str, str]] = []
    mark = h.mark()
    with h.capture_logs() as logs, h.faults(*rules):
        created = h.invoke(lambda: integration.create_investor(profile))
        if created.error is not None:
            raised.append(("the exception raised by create_investor()", exception_text(created.error)))
        investor = created.result if created.ok and isinstance(created.result, str) else None
        if investor is None:  # its bank needs an investor: the suite's own one, active
            investor = h.active_investor()
        linked = h.invoke(lambda: integration.link_bank_account(investor, bank))
        if linked.error is not None:
            raised.append(("the exception raised by link_bank_account()", exception_text(linked.error)))
        read = [read_capability(integration, name)[0] for name in ("request_log", "alerts")]
    texts = _logs.sources(logs.lines, *read)  # after the block: a program's stderr is added as it ends
    if not h.exchanges_since(mark):
        s.missing("sources", "the integration sent no request, so there was nothing it could have logged")
        return
    found = [[where, marked(text, secrets)] for where, text in [*texts.items(), *raised]]
    s.fact("sources", found)


@judged(
    "observability.no-personal-data-in-logs",
    item=ITEM,
    title="No investor's personal or account data in logs, errors or alerts (advisory)",
    needs=("personal-data.sources",),
    severity=Severity.ADVISORY,
)
def no_personal_data_in_logs(facts: Facts) -> Verdict:
    sources: list[list[str]] = facts["personal-data.sources"]
    if not any(text for _, text in sources):
        return Unjudged(
            "the integration logged nothing while handling the investor's data, so there was nothing to search"
        )
    leaks = [
        f"{field} ({how}) in {where}"
        for field, value in PERSONAL_DATA.items()
        for how, form in _forms(value).items()
        for where, text in sources
        if form and form in text
    ]
    if not leaks:
        return None
    return Finding(
        "personal-data-logged",
        "no tax id, date of birth, bank account or routing number of an investor in logs, exception texts, the "
        "request log or alerts",
        "; ".join(dict.fromkeys(leaks)),
        "log method, path, status, X-Request-Id and duration — never request or response bodies (a failed request's "
        "body too: an HTTP client's error object carries both); mask personal fields if you must log them",
        evidence={"fields": sorted({leak.split(" ", 1)[0] for leak in leaks})},
    )
