"""``observability.request-log``, and the ``mixed-traffic`` scenario it judges (``secrets_in_logs`` scans it too).

Every exchange the proxy saw is in ``request_log()`` — matched by X-Request-Id — with its method, path, status and
a duration (retries, errors and faulted answers included); without ``request_log()``, in the integration's log
(Python logging, or a program's stderr: JSON, logfmt or plain text, read by ``_logs``; and the spans and log records
it exported to the suite's OTLP receiver, read with the HTTP semantic conventions): one entry carrying the
exchange's X-Request-Id with its method, path and status, in fields or words (and a duration on a JSON line or one
giving them as fields). A finding names the nearest miss (an entry that logs the exchange without its X-Request-Id
— for a span, "spans without their X-Request-Id", fixed by one header-capture setting of the instrumentation).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bluum_readiness.checks import _logs
from bluum_readiness.checks._support import INVESTOR
from bluum_readiness.checks.judge import Facts, Finding, Passed, Verdict, judged
from bluum_readiness.checks.observability._captured import (
    ITEM,
    ROOT_LOGGER_FIX,
    python_log_unseen,
    record_capability,
    record_logs,
    suite_secrets,
)
from bluum_readiness.checks.observation import Scene, scenario
from bluum_readiness.failures import NotVerifiable
from bluum_readiness.harness import LogLine
from bluum_readiness.otlp import SPAN_SOURCE
from bluum_readiness.proxy.faults import StatusFault
from bluum_readiness.proxy.recorder import Exchange
from bluum_readiness.proxy.rules import FaultRule

if TYPE_CHECKING:
    from bluum_readiness.harness import Harness

WITHOUT_ID = "logged without its X-Request-Id"
SPAN_WITHOUT_ID = "in a span without its X-Request-Id"
SPAN_FIX = (
    "capture the response's X-Request-Id on your HTTP client spans — one setting of the instrumentation: Python "
    "(httpx, requests, urllib3, aiohttp-client) OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_CLIENT_RESPONSE="
    "x-request-id; Node's HttpInstrumentation headersToSpanAttributes: {client: {responseHeaders: "
    "['x-request-id']}} (UndiciInstrumentation: headersToSpanAttributes: {responseHeaders: ['x-request-id']}); Go "
    "otelhttp (no header option): a RoundTripper under otelhttp.NewTransport that sets "
    "http.response.header.x-request-id on trace.SpanFromContext(req.Context()); Java agent "
    "otel.instrumentation.http.client.capture-response-headers=X-Request-Id "
    "(OTEL_INSTRUMENTATION_HTTP_CLIENT_CAPTURE_RESPONSE_HEADERS) — docs/opentelemetry.md; quote the request id to "
    "Bluum support"
)
LOG_FIX = (
    "record one entry per HTTP exchange (every retry too) with method, path, status, the response's X-Request-Id "
    "and the duration; quote the request id to Bluum support"
)


def _register_receiver(h: Harness, integration: Any) -> None:
    """In twin mode, register the integration's receiver so it holds (and could leak) a webhook secret."""
    url = getattr(integration, "webhook_url", None)
    if not h.target.twin or not isinstance(url, str) or not url or h.webhook_secret.known:
        return
    h.register_webhook(url)


@scenario("mixed-traffic", facts=("exchanges", "log", "programs", "request_log", "alerts", "secrets"))
def _mixed_traffic(s: Scene) -> None:
    """Reads, writes, a retried 503 and a refused 400 through the integration (its receiver registered, so it holds
    a webhook secret it could leak): every exchange the proxy saw, and what the integration logged meanwhile — log
    lines, ``request_log()``, ``alerts()`` — with every secret replaced by its name."""
    h = s.h
    integration = s.integration
    _register_receiver(h, integration)
    secrets = suite_secrets(h)
    s.fact("secrets", sorted(secrets))
    investor, bank = h.funded_investor()
    mark = h.mark()
    rules = (
        FaultRule("log-503", StatusFault(503), method="GET", path=INVESTOR, first=1),
        FaultRule("log-400", StatusFault(400), method="POST", path="/v1/investors/*/deposits", nth=2),
    )
    with h.capture_logs() as logs:
        with h.faults(*rules):
            for operation in (
                lambda: integration.kyc_status(investor),
                lambda: integration.deposit(investor, bank, "2.00"),
                lambda: integration.deposit(investor, bank, "3.00"),  # refused: 400
                lambda: integration.positions(investor),
            ):
                h.invoke(operation, timeout=30.0)
        exchanges = h.exchanges_since(mark)
        if not exchanges:
            raise NotVerifiable("the integration sent no request, so there was nothing it could have logged")
        s.fact("exchanges", tuple(exchanges))
        record_capability(s, "request_log", secrets)
        record_capability(s, "alerts", secrets)
    record_logs(s, logs, secrets)
    facts = s.observation.facts
    lines = facts["log"]
    s.evidence("scanned", _logs.sizes(lines, _logs.sources(lines, facts.get("request_log"), facts.get("alerts"))))


def _entry_problems(exchange: Exchange, entry: dict[str, Any] | None) -> list[str]:
    label = _label(exchange)
    if entry is None:
        return [f"{label}: no entry with this X-Request-Id"]
    problems = []
    if str(entry.get("method", "")).upper() != exchange.method:
        problems.append(f"{label}: method logged as {entry.get('method')!r}")
    if not _logs.same_path(entry.get("path"), exchange.path):
        problems.append(f"{label}: path logged as {entry.get('path')!r}")
    if entry.get("status") != exchange.status:
        problems.append(f"{label}: status logged as {entry.get('status')!r}")
    duration = entry.get("duration_ms")
    if (
        isinstance(duration, bool)
        or not isinstance(duration, int | float)
        or not math.isfinite(duration)
        or duration < 0
    ):
        problems.append(f"{label}: duration_ms logged as {duration!r}")
    return problems


def _label(exchange: Exchange) -> str:
    return f"{exchange.method} {exchange.path} -> {exchange.status} ({exchange.request_id})"


def _log_line_problems(exchange: Exchange, entries: list[_logs.Entry]) -> tuple[str | None, _logs.Entry | None]:
    """(why no line logs the exchange, or None; the line that does).

    When no line carrying the X-Request-Id logs the exchange, the finding names the nearest miss: a line that logs
    its method, path and status without the request id (the defect to fix), else the carrying line that lacks the
    least (not a library's debug line that happens to hold the id). A carrying line that lacks only the duration is
    named as it is."""
    request_id = str(exchange.request_id)
    carrying = [e for e in entries if e.mentions(request_id)]
    judged = sorted(
        ((_logs.exchange_problems(e, exchange), n) for n, e in enumerate(carrying)),
        key=lambda pair: (len(pair[0]), not carrying[pair[1]].structured),
    )
    if judged and not judged[0][0]:
        return None, carrying[judged[0][1]]
    shows_exchange = bool(judged) and judged[0][0] == ["no duration"]
    without_id = [e for e in entries if not e.mentions(request_id) and _logs.logs_without_id(e, exchange)]
    if without_id and not shows_exchange:
        # a span first: its fix is one setting of the instrumentation
        line = max(without_id, key=lambda e: (e.source == SPAN_SOURCE, e.structured))
        what = SPAN_WITHOUT_ID if line.source == SPAN_SOURCE else WITHOUT_ID
        return f"{_label(exchange)}: {what} ({line.describe(160)})", None
    if not judged:
        return f"{_label(exchange)}: no log line carries its X-Request-Id", None
    problems, nearest = judged[0]
    return (
        f"{_label(exchange)}: a line carries its X-Request-Id but {', '.join(problems)} "
        f"({carrying[nearest].describe(160)})"
    ), None


def _headline(problems: list[str], exchanges: int) -> str:
    in_spans = sum(SPAN_WITHOUT_ID in p for p in problems)
    if in_spans:
        return (
            f"{in_spans} of {exchanges} exchanges are in spans without their X-Request-Id "
            f"({len(problems)} problem(s) in all): "
        )
    without_id = sum(WITHOUT_ID in p for p in problems)
    if without_id:
        return (
            f"{without_id} of {exchanges} exchanges are logged without their X-Request-Id "
            f"({len(problems)} problem(s) in all): "
        )
    return f"{len(problems)} problem(s) over {exchanges} exchanges: "


@judged(
    "observability.request-log",
    item=ITEM,
    title="Every exchange is in the request log with method, path, status, X-Request-Id and duration",
    needs=("mixed-traffic.exchanges", "mixed-traffic.log", "mixed-traffic.programs"),
    uses=("mixed-traffic.request_log",),
)
def request_log(facts: Facts) -> Verdict:
    exchanges: Sequence[Exchange] = facts["mixed-traffic.exchanges"]
    lines: Sequence[LogLine] = facts["mixed-traffic.log"]
    programs: int = facts["mixed-traffic.programs"]
    entries: list[dict[str, Any]] | None = facts["mixed-traffic.request_log"]
    answered = [x for x in exchanges if x.status is not None and x.request_id]
    evidence: dict[str, Any]
    if entries is not None:
        by_id = {str(e["request_id"]): e for e in entries if e.get("request_id")}
        problems = [p for x in answered for p in _entry_problems(x, by_id.get(str(x.request_id)))]
        evidence = {
            "source": "request_log()",
            "exchanges": len(answered),
            "entries": len(entries),
            "sample": entries[-5:],
        }
        where = "one request-log entry per exchange the proxy saw, matched by X-Request-Id"
    else:
        read = _logs.read(lines)
        matched: list[dict[str, str]] = []
        problems = []
        for exchange in answered:
            problem, line = _log_line_problems(exchange, read)
            if problem is not None:
                problems.append(problem)
            elif line is not None:
                matched.append({"exchange": _label(exchange), "line": line.describe()})
        evidence = {
            "source": "log lines, spans and log records (no request_log())",
            "scanned": _logs.scanned(lines),
            "exchanges": len(answered),
            "matched": matched[:20],
            "unmatched": problems[:50],
        }
        where = "one log line (or span) per exchange the proxy saw, carrying its X-Request-Id"
        if not lines:
            problems.insert(
                0,
                "the integration wrote no log line at all (Python logging, a program's stderr, spans or log records "
                "over OTLP) and has no request_log()",
            )
        elif python_log_unseen(lines, programs):
            problems.insert(0, "no Python log record but an HTTP library's was captured, and there is no request_log()")
    if not problems:
        return Passed({"request_log": evidence})
    unseen = entries is None and python_log_unseen(lines, programs)
    if any(SPAN_WITHOUT_ID in p for p in problems):
        cause, fix = "spans-without-request-id", SPAN_FIX
    else:
        cause = "request-id-not-logged" if any(WITHOUT_ID in p for p in problems) else "requests-not-logged"
        fix = LOG_FIX + (ROOT_LOGGER_FIX if unseen else "")
    return Finding(
        cause,
        f"{where}, with method, path, status and the duration (required on JSON lines and lines that give the "
        "method, path or status as fields)",
        _headline(problems, len(answered)) + "; ".join(problems[:6]),
        fix,
        evidence={"request_log": evidence, "problems": problems[:50]},
    )
