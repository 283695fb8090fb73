"""``observability.failures-logged``: exchanges that got no answer (a reset, a timeout) are logged with method,
path and the failure, retried or not — except those the integration's HTTP transport replayed at once
(``transport_replay``), whose failure its code never saw.

The scenario has the proxy end every connection after its response (``Harness.fresh_connections``): each request
then comes on a new connection, and Go's ``http.Transport`` resends only on a reused one, so under any load every
failure reaches a Go integration's code. Java's ``HttpClient`` resends a GET even on a fresh connection, at once:
``transport_replay`` tells such a replay by its timing, and only an exchange no log line names is excused by it (an
application that retries as fast, and logs, is judged on its lines)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from bluum_readiness.checks import _logs
from bluum_readiness.checks._support import DEPOSITS, INVESTOR
from bluum_readiness.checks.judge import Facts, Finding, Passed, Unjudged, Verdict, judged
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
from bluum_readiness.proxy.faults import HangBeforeFault, ResetFault
from bluum_readiness.proxy.recorder import Exchange
from bluum_readiness.proxy.rules import FaultRule

RESET_READS = 3  # reads met with a connection reset in failed-exchanges (one would do, but for chance: see there)
REPLAY_WINDOW_S = 0.010
"""How soon an identical request must follow an unanswered one to be its HTTP transport's replay (a transport resends
at once, sub-millisecond on loopback, a few milliseconds on a loaded machine; an application's own retry waits its
backoff — and one that retries as fast but logs its failures is matched to its lines first, never excused)."""
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
    secrets = suite_secrets(h)
    with h.fresh_connections(), h.capture_logs() as logs:
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
    record_capability(s, "request_log", secrets, keep=lambda e: e.get("status") is None)
    record_logs(s, logs, secrets)


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
    entries = _logs.read(lines)
    logged = facts["failed-exchanges.request_log"] or []
    entries += [_logs.Entry("request_log()", json.dumps(e, default=str), e, None) for e in logged]
    replay_of = {x.seq: transport_replay(x, seen, held_s) for x in faulted}
    # A log line is a failure the code saw: it goes first to an exchange no transport replayed, then to the others
    # (one that was logged was seen, whatever its timing: an application retrying within the window is not excused).
    used: set[int] = set()
    found_line: dict[int, int] = {}
    for exchange in sorted(faulted, key=lambda x: replay_of[x.seq] is not None):
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
        if found is not None:
            used.add(found)
            found_line[exchange.seq] = found
    matched, missing, replays = [], [], []
    for x in faulted:
        label = f"{x.method} {x.path} ({x.fault}: no answer)"
        if x.seq in found_line:
            matched.append({"exchange": label, "line": entries[found_line[x.seq]].describe()})
        elif replay_of[x.seq] is not None:  # unlogged, and replayed at once: it never failed in the code's eyes
            replays.append(f"{x.method} {x.path} ({x.fault}: replayed by the HTTP transport as #{replay_of[x.seq]})")
        else:
            missing.append(label)
    if not matched and not missing:
        return Unjudged(
            f"every unanswered exchange was replayed at once by the integration's HTTP transport ({'; '.join(replays)}"
            "): an identical request (method, path, body and Idempotency-Key) followed at once, as HTTP transports "
            "send when a connection closes before any answer (Java's HttpClient for a GET), so no failure reached the "
            "integration's code to log"
        )
    unanswered = len(matched) + len(missing)
    evidence = {
        "failures_logged": {
            "unanswered": unanswered,
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
    unseen = python_log_unseen(lines, facts["failed-exchanges.programs"])
    return Finding(
        "failures-not-logged",
        "a log line for every exchange that got no answer, with its method, path and the failure (reset, timeout)",
        f"{len(missing)} of {unanswered} unanswered exchanges are in no log line: " + "; ".join(missing) + excused,
        "log failed attempts too, not only answered ones — method, path and what went wrong (ECONNRESET, "
        "a timeout after N ms) — whether or not you retry: they are what on-call needs when Bluum is unreachable"
        + (ROOT_LOGGER_FIX if unseen else ""),
        evidence=evidence,
    )
