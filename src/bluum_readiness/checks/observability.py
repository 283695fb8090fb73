"""Checks of the ``observability`` item: a complete request log without secrets, and alerts that fire for the
right reasons.

- ``request-log``: every exchange the proxy saw is in ``request_log()`` — matched by X-Request-Id — with its
  method, path, status and a duration (retries, errors and faulted answers included); without ``request_log()``,
  in the integration's log (Python logging, or a program's stderr: JSON, logfmt or plain text, read by ``_logs``;
  and the spans and log records it exported to the suite's OTLP receiver, read with the HTTP semantic conventions):
  one entry carrying the exchange's X-Request-Id with its method, path and status, in fields or words (and a
  duration on a JSON line or one giving them as fields); a finding names the nearest miss (an entry that logs the
  exchange without its X-Request-Id — for a span, "spans without their X-Request-Id", fixed by one header-capture
  setting of the instrumentation). Python records are captured at the root logger: when none but an HTTP
  library's arrived, the fix names what hides a log from it (``propagate = False``, structlog's default
  configuration) — so do ``failures-logged``'s and ``no-secrets-in-logs``' when they saw none.
- ``failures-logged``: exchanges that got no answer (a reset, a timeout) are logged with method, path and the
  failure, retried or not.
- ``no-secrets-in-logs``: neither the API secret, its Basic token nor the webhook secret appear in the request
  log, in anything logged through Python ``logging`` or a program's stderr, in a span's or log record's
  attributes, events or body, or in alerts; the evidence says how
  much was scanned, and a scan of nothing is not verifiable, never a pass.
- ``alert-5xx``, ``alert-429``, ``alert-stuck-order``, ``alert-webhook-failure``: no alert of the kind in normal
  weather, then one once its cause is in place (within ``alert_timeout_s``), seen in ``alerts()`` and/or the team's
  alerting pipeline (``[alerts]``: notifications to the run's listener, ``_alert_sources``; docs/alerts.md).

Without ``alerts()`` and ``[alerts]`` / without ``webhook_url`` the checks that need them are *not verifiable*.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from bluum_readiness.checks import _logs
from bluum_readiness.checks._alert_sources import ADAPTER, LISTENER, AlertSources, Mark
from bluum_readiness.checks._support import DEPOSITS, INVESTOR, exception_text, read_capability, twin_deliveries
from bluum_readiness.checks.judge import Facts, Finding, Passed, Unjudged, Verdict, failure, judged
from bluum_readiness.checks.observation import Scene, scenario
from bluum_readiness.failures import ConformanceFailure, NotVerifiable, Severity
from bluum_readiness.harness import LogLine, poll
from bluum_readiness.otlp import LOG_SOURCE, SPAN_SOURCE
from bluum_readiness.proxy.faults import HangBeforeFault, ResetFault, StatusFault
from bluum_readiness.proxy.recorder import Exchange
from bluum_readiness.proxy.rules import FaultRule
from bluum_readiness.testing import investor_profile, manual_bank

if TYPE_CHECKING:
    from bluum_readiness.harness import Harness, LogCapture

ITEM = "observability"
BURST_5XX = 10  # a burst: this many 5xx answers within a few seconds
HITS_429 = 3
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
ROOT_LOGGER_FIX = (
    "; if your integration does log them: Python logs are read through the root logger, so a logger "
    "with propagate = False, or structlog's default configuration (it prints to stdout, not through logging), is "
    "invisible — let the logger propagate, or configure structlog with "
    "logger_factory=structlog.stdlib.LoggerFactory() (JSON through structlog.stdlib.ProcessorFormatter, or "
    "structlog.processors.JSONRenderer as the last processor) (docs/adapter-contract.md)"
)


def _python_log_unseen(lines: Sequence[LogLine], programs: int) -> bool:
    """A Python integration none of whose own log records reached the root logger (only an HTTP library's, or
    none at all) and no span or log record over OTLP: what ``ROOT_LOGGER_FIX`` explains. Never an ``exec:`` program
    (its log is its stderr)."""
    exported = any(line.source in (SPAN_SOURCE, LOG_SOURCE) for line in lines)
    return not programs and not exported and not _logs.own_python_lines(lines)


def _fail(expected: str, observed: str, fix: str, **evidence: Any) -> ConformanceFailure:
    return failure(expected=expected, observed=observed, fix=fix, evidence=evidence)


# -- what the integration logged, without the secrets --------------------------------------------------------------


def _marked(value: Any, secrets: Mapping[str, str]) -> Any:
    """``value`` with every secret replaced by its name in brackets ("[the API secret]"): an observation keeps where
    a secret was, never the secret."""
    if isinstance(value, str):
        for name, secret in secrets.items():
            value = value.replace(secret, f"[{name}]")
        return value
    if isinstance(value, LogLine):
        return dataclasses.replace(
            value,
            text=_marked(value.text, secrets),
            message=_marked(value.message, secrets),
            fields=_marked(value.fields, secrets),
        )
    if isinstance(value, Mapping):
        return {str(k): _marked(v, secrets) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_marked(v, secrets) for v in value]
    return value


def _secrets(h: Harness) -> dict[str, str]:
    """The secrets a log must never show, by the name a finding gives them."""
    pair = h.credentials.current
    found = {"the API secret": pair.secret, "the Basic authorization token": pair.basic_token()}
    if h.webhook_secret.known:
        found["the webhook secret"] = h.webhook_secret.get()
    return found


def _record_logs(s: Scene, logs: LogCapture, secrets: Mapping[str, str]) -> None:
    """The captured log as facts: its lines (secrets marked) and how many programs' stderr was read."""
    s.fact("log", tuple(_marked(line, secrets) for line in logs.lines))
    s.fact("programs", logs.programs)


def _capability(s: Scene, name: str, secrets: Mapping[str, str], keep: Callable[[Any], bool] = bool) -> None:
    """What ``request_log()`` / ``alerts()`` returned (secrets marked) as the fact ``name``; missing without it."""
    found, why = read_capability(s.integration, name)
    if why is not None:
        s.missing(name, why)
        return
    entries = [e for e in found if isinstance(e, dict) and keep(e)] if isinstance(found, list) else found
    s.fact(name, _marked(entries, secrets))


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
    secrets = _secrets(h)
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
        _capability(s, "request_log", secrets)
        _capability(s, "alerts", secrets)
    _record_logs(s, logs, secrets)
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
        elif _python_log_unseen(lines, programs):
            problems.insert(0, "no Python log record but an HTTP library's was captured, and there is no request_log()")
    if not problems:
        return Passed({"request_log": evidence})
    unseen = entries is None and _python_log_unseen(lines, programs)
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


RESET_READS = 3  # reads met with a connection reset in failed-exchanges (one would do, but for chance: see there)
REPLAY_WINDOW_S = 0.005
"""How soon an identical request must follow an unanswered one to be its HTTP transport's replay (Go's http.Transport
resends at once, sub-millisecond on loopback; an application's own retry waits its backoff)."""
HELD_REPLAY_WINDOW_S = 0.25
"""The same, when the proxy itself hung up on a request the client was still waiting for (it had no timeout, or a
longer one): such a client saw no failure of its own, so a scheduling delay before the replay must not count."""


def transport_replay(exchange: Exchange, seen: Sequence[Exchange], held_s: float) -> int | None:
    """The sequence number of the request that replayed ``exchange`` inside the integration's HTTP transport, if one
    did: the same method, path, query, body and Idempotency-Key, at once after the connection closed with no answer
    (``REPLAY_WINDOW_S``; ``HELD_REPLAY_WINDOW_S`` when the proxy hung up after holding it ``held_s``). Its code saw
    one attempt (the replay's answer), not the failure."""
    if exchange.status is not None:
        return None
    hung_up = exchange.duration_ms / 1000 >= 0.95 * held_s
    window = HELD_REPLAY_WINDOW_S if hung_up else REPLAY_WINDOW_S
    key = (exchange.method, exchange.path, exchange.query, exchange.body_sha256, exchange.idempotency_key)
    for later in seen:
        if later.seq <= exchange.seq or not 0 <= later.started - exchange.finished + 0.001 <= window + 0.001:
            continue
        if (later.method, later.path, later.query, later.body_sha256, later.idempotency_key) == key:
            return later.seq
    return None


@scenario("failed-exchanges", facts=("exchanges", "log", "programs", "request_log", "held_s"))
def _failed_exchanges(s: Scene) -> None:
    """Connection resets on three reads and a hang past the client's timeout on a deposit: every exchange the proxy
    saw (the unanswered ones are the faulted ones without a status), and what the integration logged meanwhile.
    Three resets, because an application whose backoff is drawn from zero (full jitter) retries within the
    transport-replay window now and then (``transport_replay``): three in a row are not a chance."""
    h = s.h
    integration = s.integration
    investor, bank = h.funded_investor()
    held_s = s.fact("held_s", s.thresholds.request_timeout_s * 3)
    reads = [FaultRule("log-reset", ResetFault(), method="GET", path=INVESTOR, first=1) for _ in range(RESET_READS)]
    hang = FaultRule("log-timeout", HangBeforeFault(seconds=held_s), method="POST", path=DEPOSITS, first=1)
    rules = (*reads, hang)
    mark = h.mark()
    secrets = _secrets(h)
    with h.capture_logs() as logs:
        for read in reads:
            with h.faults(read):
                h.invoke(lambda: integration.kyc_status(investor), timeout=30.0)
        with h.faults(hang):
            h.invoke(lambda: integration.deposit(investor, bank, "4.00"), timeout=30.0)
    seen = h.exchanges_since(mark)
    if not any(x.status is None and x.fault in {r.name for r in rules} for x in seen):
        raise NotVerifiable(
            "the integration sent no request into the faults, so no unanswered exchange could be logged"
        )
    s.fact("exchanges", tuple(seen))
    # an entry with no status is the capability's way of logging "no answer"
    _capability(s, "request_log", secrets, keep=lambda e: e.get("status") is None)
    _record_logs(s, logs, secrets)


@judged(
    "observability.failures-logged",
    item=ITEM,
    title="Exchanges that got no answer (reset, timeout) are logged with method, path and the failure",
    needs=(
        "failed-exchanges.exchanges",
        "failed-exchanges.log",
        "failed-exchanges.programs",
        "failed-exchanges.held_s",
    ),
    uses=("failed-exchanges.request_log",),
)
def failures_logged(facts: Facts) -> Verdict:
    seen: Sequence[Exchange] = facts["failed-exchanges.exchanges"]
    lines: Sequence[LogLine] = facts["failed-exchanges.log"]
    held_s: float = facts["failed-exchanges.held_s"]
    faulted = [x for x in seen if x.status is None and x.fault in ("log-reset", "log-timeout")]
    replay_of = {x.seq: transport_replay(x, seen, held_s) for x in faulted}
    unanswered = [x for x in faulted if replay_of[x.seq] is None]
    replays = [
        f"{x.method} {x.path} ({x.fault}: replayed by the HTTP transport as #{replay_of[x.seq]})"
        for x in faulted
        if replay_of[x.seq] is not None
    ]
    if not unanswered:
        return Unjudged(
            f"every unanswered exchange was replayed at once by the integration's HTTP transport ({'; '.join(replays)}"
            "): an identical request with the same Idempotency-Key followed at once, as Go's http.Transport sends when "
            "a connection closes before any answer, so no failure reached the integration's code to log"
        )
    entries = _logs.read(lines)
    logged = facts["failed-exchanges.request_log"] or []
    entries += [_logs.Entry("request_log()", json.dumps(e, default=str), e, None) for e in logged]
    used: set[int] = set()
    matched, missing = [], []
    for exchange in unanswered:
        found = next(
            (
                n
                for n, e in enumerate(entries)
                if n not in used
                and (
                    e.source == "request_log()"
                    and e.get("method") == exchange.method
                    and _logs.same_path(e.get("path"), exchange.path)
                    or _logs.names_failure(e, exchange.method, exchange.path)
                )
            ),
            None,
        )
        label = f"{exchange.method} {exchange.path} ({exchange.fault}: no answer)"
        if found is None:
            missing.append(label)
        else:
            used.add(found)
            matched.append({"exchange": label, "line": entries[found].describe()})
    evidence = {
        "failures_logged": {
            "unanswered": len(unanswered),
            "scanned": _logs.scanned(lines),
            "matched": matched,
            "missing": missing,
            "transport_replays": replays,
        }
    }
    if not missing:
        return Passed(evidence)
    excused = (
        (
            f" ({len(replays)} more, replayed at once by the HTTP transport, were not counted: the "
            "integration's code never saw them fail)"
        )
        if replays
        else ""
    )
    unseen = _python_log_unseen(lines, facts["failed-exchanges.programs"])
    return Finding(
        "failures-not-logged",
        "a log line for every exchange that got no answer, with its method, path and the failure (reset, timeout)",
        f"{len(missing)} of {len(unanswered)} unanswered exchanges are in no log line: " + "; ".join(missing) + excused,
        "log failed attempts too, not only answered ones — method, path and what went wrong (ECONNRESET, "
        "a timeout after N ms) — whether or not you retry: they are what on-call needs when Bluum is unreachable"
        + (ROOT_LOGGER_FIX if unseen else ""),
        evidence=evidence,
    )


# -- secrets -------------------------------------------------------------------------------------------------


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
                if _python_log_unseen(facts["mixed-traffic.log"], facts["mixed-traffic.programs"])
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


# -- alerts --------------------------------------------------------------------------------------------------
#
# Each alert check is a scenario (normal traffic watched for a false alarm, then the cause brought on and the alert
# awaited: ``_alert_sources``) and a judge over what it saw, from ``alerts()`` and/or the team's alerting pipeline.

FALSE_ALARM_FIX = "fire {kind} only when its cause is there: an alert that always fires is ignored"
PIPELINE_TIMING = (
    "; through an alerting pipeline the rule's window, its `for:`, the evaluation interval and Alertmanager's "
    "group_wait must together let the notification arrive within alert_timeout_s = {timeout:g} s (docs/alerts.md)"
)


def _burst(h: Harness, integration: Any, investor: str, rule: FaultRule, hits: int) -> int:
    """Call ``kyc_status`` until the proxy answered ``hits`` faults under ``rule`` (at most ``hits`` calls)."""
    mark = h.mark()
    with h.faults(rule):
        for _ in range(hits):
            h.invoke(lambda: integration.kyc_status(investor), timeout=30.0)
            if len([x for x in h.proxy.exchanges(settle=0)[mark:] if x.fault == rule.name]) >= hits:
                break
    return len([x for x in h.exchanges_since(mark) if x.fault == rule.name])


def _watch(
    src: AlertSources,
    *,
    normal: str,
    cause: str,
    settled: list[dict[str, Any]],
    false_alarms: list[dict[str, Any]],
    fired: list[dict[str, Any]],
    since: Mark | None,
    **more: Any,
) -> dict[str, Any]:
    """The fact an alert judge reads: what was watched, what arrived when, and the notifications that carried it."""
    adapter = src.adapter() if src.adapter is not None else []
    return {
        "kind": src.kind,
        "sources": src.names,
        "expected": src.expected,
        "normal": normal,
        "cause": cause,
        "still_firing": settled,
        "false_alarms": false_alarms,
        "fired": fired,
        "timeout_s": src.h.thresholds.alert_timeout_s,
        "cause_at": since.at if since is not None else None,
        "quiet_s": src.quiet_s if src.feed is not None else None,
        "resolve_timeout_s": src.resolve_timeout_s if src.feed is not None else None,
        "adapter_alerts": {"count": len(adapter), "kinds": sorted({str(a.get("kind")) for a in adapter})},
        "received": src.others(since) if since is not None else [],
        "rejected": src.rejected(since)[-10:] if since is not None else [],
        "notifications": src.notifications([*settled, *false_alarms, *fired]),
        **more,
    }


def _shown(alerts: Sequence[dict[str, Any]]) -> str:
    """Alerts as a finding names them: "AcmeBluumHigh5xx (alerting pipeline, firing)", "elevated_5xx (alerts())"."""
    parts = []
    for a in alerts[:3]:
        status = f", {a['status']}" if a.get("status") else ""
        parts.append(f"{a.get('name') or a.get('kind')} ({a.get('source')}{status})")
    return ", ".join(parts) + (f" and {len(alerts) - 3} more" if len(alerts) > 3 else "")


def _alert_evidence(w: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("sources", "expected", "cause", "fired", "false_alarms", "still_firing", "received", "rejected")
    return {"alerts": {k: w[k] for k in keys if w.get(k) not in (None, [])}, "notifications": w["notifications"]}


def _named(w: Mapping[str, Any]) -> str:
    return f"{w['expected']} ({w['kind']})" if w["expected"] else repr(w["kind"])


def _false_alarm(w: Mapping[str, Any]) -> Finding | None:
    """A finding when an alert of the kind fired without its cause (before the cause was brought on)."""
    fix = FALSE_ALARM_FIX.format(kind=w["kind"])
    if w["still_firing"]:
        return Finding(
            "alert-false-alarm",
            f"no {_named(w)} alert firing before its cause",
            f"{_shown(w['still_firing'])} still firing {w['resolve_timeout_s']:g} s after the check began, before "
            "it brought on any cause (an alert of this kind from earlier in the run must resolve within "
            "[alerts] resolve_timeout_s)",
            fix + "; and let it resolve when its cause ends (Alertmanager: send_resolved: true)",
            evidence=_alert_evidence(w),
        )
    if w["false_alarms"]:
        return Finding(
            "alert-false-alarm",
            f"no {_named(w)} alert during {w['normal']}",
            f"{_shown(w['false_alarms'])} arrived during it",
            fix,
            evidence=_alert_evidence(w),
        )
    return None


def _no_alert(w: Mapping[str, Any], fix: str) -> Finding:
    """The finding of an alert that never arrived, naming the alert expected and what each source held."""
    timeout = w["timeout_s"]
    observed = []
    if LISTENER in w["sources"]:
        received = w["received"]
        got = f"the listener received {', '.join(received[:5])}" if received else "the listener received nothing"
        rejected = w.get("rejected") or []
        if rejected:
            got += f"; it rejected {len(rejected)} notification(s): {rejected[-1]['error']}"
        observed.append(f"no {w['expected']} notification within {timeout:g} s of {w['cause']} ({got})")
    if ADAPTER in w["sources"]:
        held = w["adapter_alerts"]
        observed.append(f"no such alert; alerts() holds {held['count']} alert(s) of kinds {held['kinds']}")
    thresholds = (
        f" (the suite waits alert_timeout_s = {timeout:g} s: the adapter you hand it needs alert thresholds below "
        "that, e.g. a factory parameter for tests"
        + (PIPELINE_TIMING.format(timeout=timeout) if LISTENER in w["sources"] else "")
        + ")"
    )
    return Finding(
        "alert-missing",
        f"a {_named(w)} alert within {timeout:g} s of {w['cause']}",
        "; ".join(observed),
        fix + thresholds,
        evidence=_alert_evidence(w),
    )


STARTS_AT_TOLERANCE_S = 0.5
"""How much earlier than the cause an alert's own start time (Alertmanager's and Grafana's ``startsAt``) may be
before the alert counts as having started without it: clocks of the alerting system and the suite differ a little."""


def _started(alert: Mapping[str, Any]) -> float | None:
    """An alert's ``starts_at`` in seconds since the epoch (nanoseconds cut to micro), or None."""
    text = alert.get("starts_at")
    if not isinstance(text, str):
        return None
    text = re.sub(r"(\.\d{6})\d+", r"\1", text.strip()).replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.timestamp() if moment.tzinfo is not None and moment.year > 1 else None


def _alert_verdict(w: Mapping[str, Any], fix: str) -> Verdict:
    found = _false_alarm(w)
    if found is not None:
        return found
    if not w["fired"]:
        return _no_alert(w, fix)
    cause_at = w.get("cause_at")
    starts = [_started(a) for a in w["fired"]]
    if cause_at is not None and all(t is not None and t < cause_at - STARTS_AT_TOLERANCE_S for t in starts):
        began = min(t for t in starts if t is not None)
        return Finding(
            "alert-false-alarm",
            f"a {_named(w)} alert that starts after {w['cause']}, not before",
            f"{_shown(w['fired'])} started {cause_at - began:.1f} s before it (at "
            f"{datetime.fromtimestamp(began, UTC).isoformat(timespec='seconds')}): it fired during {w['normal']} "
            "and its notification arrived after the quiet watch",
            FALSE_ALARM_FIX.format(kind=w["kind"]) + "; raise [alerts] quiet_s to see such alarms in the quiet watch",
            evidence=_alert_evidence(w),
        )
    return Passed(_alert_evidence(w))


@scenario("alert-5xx", facts=("watch",))
def _alert_5xx(s: Scene) -> None:
    """One retried 503 and normal traffic (watched for a false ``elevated_5xx``), then 10 × 503 on ``GET
    /investors/*`` and the alert awaited."""
    h = s.h
    integration = s.integration
    src = AlertSources.of(h, integration, "elevated_5xx")
    investor = h.active_investor()
    normal = "normal traffic with one retried 503"
    settled = src.settle()
    quiet = src.mark()
    if not settled:
        single = FaultRule("single-503", StatusFault(503), method="GET", path=INVESTOR, first=1)
        if _burst(h, integration, investor, single, 1) == 0:
            raise NotVerifiable("kyc_status() sent no request, so no 5xx could reach the integration")
        for _ in range(2):
            h.invoke(lambda: integration.kyc_status(investor))
    false_alarms = [] if settled else src.watch_quiet(quiet)
    cause, answered, fired = src.mark(), 0, []
    if not settled and not false_alarms:
        burst = FaultRule("burst-5xx", StatusFault(503), method="GET", path=INVESTOR, first=BURST_5XX)
        answered = _burst(h, integration, investor, burst, BURST_5XX)
        fired = src.wait_for(cause)
    s.evidence("alerts", {"burst_5xx": answered})
    s.fact(
        "watch",
        _watch(
            src,
            normal=normal,
            cause=f"a burst of {answered} 503 answers",
            settled=settled,
            false_alarms=false_alarms,
            fired=fired,
            since=cause,
        ),
    )


@judged(
    "observability.alert-5xx",
    item=ITEM,
    title="An alert fires on a burst of 5xx (and not on one retried 5xx)",
    needs=("alert-5xx.watch",),
    requires=("alerts",),
)
def alert_5xx(facts: Facts) -> Verdict:
    return _alert_verdict(
        facts["alert-5xx.watch"], "count 5xx answers (every attempt) in a sliding window; alert over a limit"
    )


@scenario("alert-429", facts=("watch",))
def _alert_429(s: Scene) -> None:
    """Normal traffic (watched for a false ``rate_limited``), then three 429s and the alert awaited."""
    h = s.h
    integration = s.integration
    src = AlertSources.of(h, integration, "rate_limited")
    investor = h.active_investor()
    settled = src.settle()
    quiet = src.mark()
    if not settled:
        for _ in range(3):
            h.invoke(lambda: integration.kyc_status(investor))
    false_alarms = [] if settled else src.watch_quiet(quiet)
    cause, answered, fired = src.mark(), 0, []
    if not settled and not false_alarms:
        rule = FaultRule("hits-429", StatusFault(429, retry_after=0), method="GET", path=INVESTOR, first=HITS_429)
        answered = _burst(h, integration, investor, rule, HITS_429)
        if answered == 0:
            raise NotVerifiable("kyc_status() sent no request, so no 429 could reach the integration")
        fired = src.wait_for(cause)
    s.evidence("alerts", {"answered_429": answered})
    s.fact(
        "watch",
        _watch(
            src,
            normal="normal traffic",
            cause=f"{answered} 429 answers",
            settled=settled,
            false_alarms=false_alarms,
            fired=fired,
            since=cause,
        ),
    )


@judged(
    "observability.alert-429",
    item=ITEM,
    title="An alert fires when Bluum answers 429",
    needs=("alert-429.watch",),
    requires=("alerts",),
)
def alert_429(facts: Facts) -> Verdict:
    return _alert_verdict(
        facts["alert-429.watch"], "alert on 429s: the integration is over its rate limit and users wait"
    )


def _order_status(h: Harness, investor: str, order_id: str) -> str:
    status: str = h.call("GET", f"/investors/{investor}/orders/{order_id}")["status"]
    return status


@scenario("alert-stuck-order", facts=("watch",), twin_only=True)
def _alert_stuck_order(s: Scene) -> None:
    """A market buy that fills (watched for a false ``stuck_order``), then a limit buy held open by the twin and the
    alert awaited; an alert that names no order (count-based) is then watched to resolve once the held order is
    cancelled."""
    h = s.h
    integration = s.integration
    src = AlertSources.of(h, integration, "stuck_order")
    investor, _ = h.funded_investor()
    symbol = "MSFT"
    price = Decimal(str(h.call("GET", f"/assets/{symbol}")["price"]))
    settled = src.settle()
    quiet = src.mark()
    market_body = {"symbol": symbol, "side": "buy", "type": "market", "time_in_force": "day", "quantity": "1"}
    placed = h.invoke(lambda: integration.place_order(investor, market_body))
    if not placed.ok or not str(placed.result).startswith("ord_"):
        raise NotVerifiable(f"place_order() did not place a market order ({placed.describe()})")
    market = str(placed.result)
    h.wait_for(f"market order {market} to fill", lambda: _order_status(h, investor, market) == "filled")
    false_alarms = [] if settled else src.watch_quiet(quiet)
    cause, fired, released, held = src.mark(), [], None, None
    if not settled and not false_alarms:
        limit_body = {
            "symbol": symbol,
            "side": "buy",
            "type": "limit",
            "time_in_force": "gtc",
            "quantity": "1",
            "limit_price": f"{(price / 2):.2f}",
        }
        placed = h.invoke(lambda: integration.place_order(investor, limit_body))
        if not placed.ok or not str(placed.result).startswith("ord_"):
            raise NotVerifiable(f"place_order() did not place a limit order ({placed.describe()})")
        held = str(placed.result)
        cancel = f"/investors/{investor}/orders/{held}/cancel"
        h.sandbox("POST", f"/orders/{held}/hold")
        h.on_close(lambda: h.call("POST", cancel, expect=(200, 201, 409)))
        fired = src.wait_for(cause, about=held if src.feed is None else None)
        if fired and not any(held in json.dumps(a, default=str) or a.get("order_id") for a in fired):
            h.call("POST", cancel, expect=(200, 201, 409))  # a count-based alert must end with the stuck order
            released = src.still_firing()
    s.evidence("alerts", {"held_order": held, "filled_order": market})
    s.fact(
        "watch",
        _watch(
            src,
            normal=f"the life of market order {market}, which filled at once",
            cause=f"order {held} being held open at the target",
            settled=settled,
            false_alarms=false_alarms + src.seen(quiet, about=market),
            fired=fired,
            since=cause,
            held=held,
            filled=market,
            released=released,
        ),
    )


@judged(
    "observability.alert-stuck-order",
    item=ITEM,
    title="An alert fires for an order held non-terminal past the threshold (not for one that filled)",
    needs=("alert-stuck-order.watch",),
    twin_only=True,
    requires=("alerts",),
)
def alert_stuck_order(facts: Facts) -> Verdict:
    w = facts["alert-stuck-order.watch"]
    fix = (
        "watch the orders you placed (webhooks or polling) and alert when one stays non-terminal longer than "
        "expected (the alert must name it, or fire only while an order is stuck)"
    )
    verdict = _alert_verdict(w, fix)
    if not isinstance(verdict, Passed):
        return verdict
    held = w["held"]
    naming = [a for a in w["fired"] if held in json.dumps(a, default=str)]
    others = sorted({str(a["order_id"]) for a in w["fired"] if a.get("order_id")} - {held})
    if naming:
        return verdict
    if others:
        return Finding(
            "alert-missing",
            f"a {_named(w)} alert naming the held order {held}",
            f"{_shown(w['fired'])} named {', '.join(others)}, not {held}",
            fix,
            evidence=_alert_evidence(w),
        )
    if w["released"]:
        return Finding(
            "alert-false-alarm",
            f"a {_named(w)} alert that names no order fires only while an order is stuck: it resolves within "
            f"{w['timeout_s']:g} s of the held order {held} being cancelled",
            f"{_shown(w['released'])} still firing {w['timeout_s']:g} s after {held} was cancelled",
            "alert on the age of the oldest non-terminal order (a gauge that drops when the order ends), not on a "
            "count that only grows; with Alertmanager keep send_resolved: true (docs/alerts.md)",
            evidence={**_alert_evidence(w), "released": w["released"]},
        )
    if LISTENER not in w["sources"]:  # alerts() must name the order: the wait looked for it by id
        return _no_alert(w, fix)
    return verdict


class _FailingEndpoint:
    """An HTTPS endpoint (the suite's local CA, which the twin trusts) that answers 503 to every delivery: the
    integration's receiver behind a broken gateway."""

    def __init__(self) -> None:
        from starlette.applications import Starlette
        from starlette.requests import Request
        from starlette.responses import Response
        from starlette.routing import Route

        from bluum_readiness._serving import BackgroundServer
        from bluum_readiness.webhooks.tls import shared_local_tls

        self.hits = 0

        async def fail(request: Request) -> Response:
            self.hits += 1
            return Response('{"error": "gateway down"}', status_code=503, media_type="application/json")

        tls = shared_local_tls()
        app = Starlette(routes=[Route("/", fail, methods=["POST"])])
        self.server = BackgroundServer(
            app, ssl_certfile=tls.cert_file, ssl_keyfile=tls.key_file, name="bluum-suite"
        ).start()
        self.url = self.server.url + "/"

    def stop(self) -> None:
        self.server.stop()


@scenario("alert-webhook-failure", facts=("watch",), twin_only=True)
def _alert_webhook_failure(s: Scene) -> None:
    """The receiver registered and a deposit's deliveries acknowledged (watched for a false ``webhook_failure``),
    then the webhook pointed at an endpoint answering 503, a second deposit, and the alert awaited."""
    h = s.h
    integration = s.integration
    src = AlertSources.of(h, integration, "webhook_failure")
    url = h.capability(integration, "webhook_url")
    if not isinstance(url, str) or not url:
        raise NotVerifiable("the integration exposes no webhook_url (an optional capability of the adapter)")
    if h.webhook_secret.known:
        raise NotVerifiable(
            "the receiver's secret is configured, so the twin (which issues its own) cannot sign for it"
        )
    investor, bank = h.funded_investor()
    hook_id = h.register_webhook(url)
    settled = src.settle()
    quiet = src.mark()

    # normal weather: a deposit whose events are delivered and acknowledged
    first = h.invoke(lambda: integration.deposit(investor, bank, "5.00"))
    if not first.ok:
        raise NotVerifiable(f"deposit() failed ({first.describe()}), so no webhook could follow it")
    delivered = poll(
        lambda: twin_deliveries(h, hook_id),
        lambda ds: bool(ds) and all(d["status"] == "delivered" for d in ds),
        h.thresholds.settle_timeout_s,
        h.poll_interval,
    )
    if not delivered or not all(d["status"] == "delivered" for d in delivered):
        raise NotVerifiable(f"the twin could not deliver to the receiver at {url} (see webhooks.end-to-end)")
    false_alarms = [] if settled else src.watch_quiet(quiet)
    cause, fired, hits = src.mark(), [], 0
    if not settled and not false_alarms:
        # the endpoint fails: every delivery answers 503 until the twin parks it
        endpoint = _FailingEndpoint()
        h.on_close(endpoint.stop)
        h.call("PATCH", f"/webhooks/{hook_id}", json={"url": endpoint.url})
        second = h.invoke(lambda: integration.deposit(investor, bank, "6.00"))
        if not second.ok:
            raise NotVerifiable(f"deposit() failed ({second.describe()}), so no webhook could follow it")
        failing = poll(
            lambda: twin_deliveries(h, hook_id)[len(delivered) :],
            lambda ds: any(a["status_code"] == 503 for d in ds for a in d["attempts"]),
            h.thresholds.settle_timeout_s,
            h.poll_interval,
        )
        fired = src.wait_for(cause)
        hits = endpoint.hits
        s.evidence("alerts", {"failing_endpoint": endpoint.url, "failed_attempts": hits, "deliveries": failing})
    s.fact(
        "watch",
        _watch(
            src,
            normal="deliveries that succeed",
            cause=f"the twin's deliveries failing ({hits} attempts answered 503)",
            settled=settled,
            false_alarms=false_alarms,
            fired=fired,
            since=cause,
        ),
    )


@judged(
    "observability.alert-webhook-failure",
    item=ITEM,
    title="An alert fires when webhook deliveries to the integration fail",
    needs=("alert-webhook-failure.watch",),
    twin_only=True,
    requires=("alerts", "webhook_url"),
)
def alert_webhook_failure(facts: Facts) -> Verdict:
    return _alert_verdict(
        facts["alert-webhook-failure.watch"],
        "notice missing webhooks: expect an event for every deposit, withdrawal and order you create, and alert "
        "when none arrives within a grace period",
    )


# -- personal data (advisory) --------------------------------------------------------------------------------------

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
    secrets = _secrets(h)
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
    found = [[where, _marked(text, secrets)] for where, text in [*texts.items(), *raised]]
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
