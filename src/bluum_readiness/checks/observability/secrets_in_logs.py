"""``observability.no-secrets-in-logs``: neither the API secret, its Basic token nor the webhook secret appear in
the request log, in anything logged through Python ``logging`` or a program's stderr, in a span's or log record's
attributes, events or body, or in alerts (the ``mixed-traffic`` scenario of ``request_log``). The evidence says how
much was scanned, and a scan of nothing is not verifiable, never a pass."""

from __future__ import annotations

from bluum_readiness.checks import _logs
from bluum_readiness.checks.judge import Facts, Finding, Unjudged, Verdict, judged
from bluum_readiness.checks.observability._captured import ITEM, ROOT_LOGGER_FIX, python_log_unseen


@judged(
    "observability.no-secrets-in-logs",
    item=ITEM,
    title="No API secret, Basic token or webhook secret in the request log, logging output or alerts",
    needs=("mixed-traffic.exchanges", "mixed-traffic.log", "mixed-traffic.programs", "mixed-traffic.secrets"),
    uses=("mixed-traffic.request_log", "mixed-traffic.alerts"),
)
def no_secrets_in_logs(facts: Facts) -> Verdict:
    texts = _logs.sources(facts["mixed-traffic.log"], facts["mixed-traffic.request_log"], facts["mixed-traffic.alerts"])
    if not any(texts.values()):
        return Unjudged(
            "the integration logged nothing (no Python log record, no stderr line, no span or log record over OTLP, "
            "no request_log() or alerts()), so "
            "there was nothing to scan for secrets — a scan of nothing is not a pass"
            + (
                ROOT_LOGGER_FIX
                if python_log_unseen(facts["mixed-traffic.log"], facts["mixed-traffic.programs"])
                else ""
            )
        )
    names: list[str] = facts["mixed-traffic.secrets"]
    leaks = [f"{what} in {where}" for where, text in texts.items() for what in names if f"[{what}]" in text]
    if not leaks:
        return None
    return Finding(
        "secret-exposed",
        "no trace of the API secret, its Basic token or the webhook secret in logs or alerts",
        "; ".join(leaks),
        "log method, path, status, X-Request-Id and duration only — never request headers, credentials or "
        "webhook secrets",
        evidence={"where": leaks, "exchanges_seen": len(facts["mixed-traffic.exchanges"])},  # "exchanges": a list
    )
