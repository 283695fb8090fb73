"""Checks of the ``error-handling`` item: 401 refresh, 429 backoff, 4xx not retried, 5xx and timeouts retried,
a timeout on every request."""

from __future__ import annotations

import statistics
from typing import TYPE_CHECKING, Any

from bluum_readiness.checks import _logs
from bluum_readiness.checks._support import (
    DEPOSITS,
    INVESTOR,
    call,
    coefficient_of_variation,
    mean,
    require_traffic,
    waits,
)
from bluum_readiness.checks.registry import check
from bluum_readiness.failures import ConformanceFailure, NotVerifiable
from bluum_readiness.integration import Credentials
from bluum_readiness.proxy.faults import HangBeforeFault, StatusFault
from bluum_readiness.proxy.faults.status import DEFAULT_CODES
from bluum_readiness.proxy.recorder import Exchange
from bluum_readiness.proxy.rules import FaultRule
from bluum_readiness.twin.errors import CATALOGUE

if TYPE_CHECKING:
    from bluum_readiness.harness import Harness, LogCapture

ITEM = "error-handling"
GROWTH_FLOOR_S = 0.005  # how much longer the third retry's wait must be than the first's, at least
BACKOFF_FIX = "retry 429 and 5xx with capped exponential backoff and full jitter: sleep(uniform(0, min(cap, base·2^n)))"


def _fail(expected: str, observed: str, fix: str, exchanges: list[Exchange],
          **evidence: Any) -> ConformanceFailure:  # fmt: skip
    return ConformanceFailure(
        expected=expected,
        observed=observed,
        fix=fix,
        evidence={"exchanges": [x.to_dict() for x in exchanges], **evidence},
    )


def _kyc_attempts(
    h: Harness, integration: Any, investor: str, rule: FaultRule, timeout: float = 30.0, most: int | None = None
) -> tuple[Any, list[Exchange]]:
    """``kyc_status`` under ``rule``; with ``most``, stop watching once more than that many attempts were made."""
    mark = h.mark()

    def too_many() -> bool:
        return most is not None and len(h.proxy.exchanges(settle=0)[mark:]) > most

    with h.faults(rule):
        outcome = call(lambda: integration.kyc_status(investor), timeout=timeout, give_up=too_many, clock=h.clock)
    attempts = h.exchanges_since(mark, method="GET")
    require_traffic(attempts, outcome, "kyc_status()")
    if not attempts:
        raise NotVerifiable(f"kyc_status() sent no request ({outcome.describe()}), so its retries cannot be judged")
    return outcome, attempts


# -- 401 -----------------------------------------------------------------------------------------------------


@check("error-handling.401-refresh", item=ITEM, title="A 401 makes the integration re-read its credentials",
       twin_only=True)  # fmt: skip
def refresh_on_401(h: Harness) -> None:
    integration = h.integration()
    investor = h.active_investor()
    warm = call(lambda: integration.kyc_status(investor), clock=h.clock)
    if not warm.ok:
        raise NotVerifiable(f"kyc_status() failed before any fault ({warm.describe()})")
    old = h.credentials.current
    fresh = h.sandbox("POST", "/api-keys", json={"name": "suite-401-refresh"})
    h.credentials.set(Credentials(fresh["key"], fresh["secret"]))
    h.sandbox("POST", f"/api-keys/{old.key}/revoke")
    mark = h.mark()
    outcome = call(lambda: integration.kyc_status(investor), clock=h.clock)
    attempts = h.exchanges_since(mark)
    if not outcome.ok:
        raise _fail(
            "after its key pair is rotated and the old one revoked, the next call gets 401, re-reads the credentials "
            "from the secret source and succeeds",
            f"the call {outcome.describe()}",
            "on 401, fetch the current pair from your secret manager again and retry once (bounded)",
            attempts,
        )


@check("error-handling.401-bounded", item=ITEM, title="A persistent 401 is not retried forever")
def bounded_on_401(h: Harness) -> None:
    integration = h.integration()
    investor = h.active_investor()
    rule = FaultRule("persistent-401", StatusFault(401), method="GET", path=INVESTOR)
    outcome, attempts = _kyc_attempts(h, integration, investor, rule, timeout=5.0, most=3)
    if not outcome.finished or len(attempts) > 3 or outcome.ok:
        raise _fail(
            "at most 3 attempts under a persistent 401, then an error to the caller",
            f"{len(attempts)} attempts and the call {outcome.describe()}",
            "after one credential refresh, give up on 401 and raise",
            attempts[:20],
        )


def _exception_text(error: BaseException) -> str:
    """Everything an exception shows where it travels (logs, error trackers, the caller's own messages): its
    text, repr and attributes, and those of the exceptions it was raised from."""
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        parts += [str(current), repr(current), repr(getattr(current, "__dict__", ""))]
        current = current.__cause__ or current.__context__
    return "\n".join(parts)


@check("error-handling.secret-never-logged", item=ITEM, title="The API secret never appears in logs or errors")
def secret_never_logged(h: Harness) -> None:
    integration = h.integration()
    investor, bank = h.funded_investor()
    secret = h.credentials.current.secret
    pair = h.credentials.current
    basic = pair.basic_token()
    rules = (
        FaultRule("log-401", StatusFault(401), method="GET", path=INVESTOR, first=1),
        FaultRule("log-400", StatusFault(400), method="POST", path=DEPOSITS, first=1),
    )
    # (where the text came from, the text): each source is named in the finding exactly as listed here
    sources: list[tuple[str, str]] = []
    mark = h.mark()
    with h.capture_logs() as logs, h.faults(*rules):
        for name, operation in (
            ("kyc_status()", lambda: integration.kyc_status(investor)),
            ("deposit()", lambda: integration.deposit(investor, bank, "1.00")),
        ):
            outcome = call(operation, clock=h.clock)
            if outcome.error is not None:
                sources.append((f"the exception raised by {name}", _exception_text(outcome.error)))
    if not h.exchanges_since(mark):
        raise NotVerifiable("the integration sent no request, so there was nothing it could have logged")
    sources.append(("Python logging", logs.text("logging")))
    if logs.of("stderr"):  # an exec: integration's program: its stderr is its log
        sources.append(("the program's stderr", logs.text("stderr")))
    request_log = getattr(integration, "request_log", None)
    if callable(request_log):
        sources.append(("request_log()", repr(request_log())))
    h.evidence["scanned"] = {
        where: {
            "bytes": len(text.encode()),
            **({"lines": len(logs.of(_SOURCE_OF[where]))} if where in _SOURCE_OF else {}),
        }
        for where, text in sources
    }
    if not any(text for _, text in sources):
        raise NotVerifiable(
            "the integration logged nothing and its errors carried no text, so there was nothing to scan for the "
            "secret — a scan of nothing is not a pass"
        )
    leaks = [where for where, text in sources if secret in text or basic in text]
    if leaks:
        raise ConformanceFailure(
            expected="no trace of the API secret (or the Basic authorization header) in logs, errors or request logs",
            observed=f"the secret appears in the integration's output ({', '.join(leaks)})",
            fix="never log request headers or credentials, nor put them in exception messages; log method, path, "
            "status, X-Request-Id and duration only",
            evidence={"where": leaks, "searched": [where for where, _ in sources]},
        )


_SOURCE_OF = {"Python logging": "logging", "the program's stderr": "stderr"}  # log sources counted in lines too


# -- 429 -----------------------------------------------------------------------------------------------------


def _backoff_trials(h: Harness, status: int = 429, failures: int = 3) -> tuple[list[list[float]], list[Exchange]]:
    """Repeated trials of ``failures`` consecutive faults before success; the waits between attempts of each.

    Observed once per session (``Harness.observed_once``): 429-backoff-grows and 429-jitter judge the same trials,
    as their documentation says, instead of each waiting out a set of its own."""
    return h.observed_once(f"backoff-trials:{status}:{failures}", lambda: _observe_backoff_trials(h, status, failures))


def _observe_backoff_trials(h: Harness, status: int, failures: int) -> tuple[list[list[float]], list[Exchange]]:
    integration = h.integration()
    investor = h.active_investor()
    trials: list[list[float]] = []
    everything: list[Exchange] = []
    # the report charts these waits against the allowed envelope (the list fills as the trials run)
    h.evidence["backoff"] = {"status": status, "waits_s": trials, "max_backoff_s": h.thresholds.max_backoff_s}
    for trial in range(h.thresholds.backoff_trials):
        rule = FaultRule(f"backoff-{status}-{trial}", StatusFault(status), method="GET", path=INVESTOR, first=failures)
        outcome, attempts = _kyc_attempts(h, integration, investor, rule, most=failures + h.thresholds.max_attempts)
        everything += attempts
        if len(attempts) == 1 and status != 429:
            raise NotVerifiable(f"the integration does not retry {status} at all; see error-handling.5xx-retried")
        if len(attempts) <= failures or not outcome.ok:
            raise _fail(
                f"retries through {failures} consecutive {status}s, then success",
                f"{len(attempts)} attempts and the call {outcome.describe()}",
                BACKOFF_FIX,
                attempts,
            )
        trials.append(waits(attempts)[:failures])
    return trials, everything


@check("error-handling.429-backoff-grows", item=ITEM, title="Waits after 429 grow exponentially, and it recovers")
def backoff_grows(h: Harness) -> None:
    trials, exchanges = _backoff_trials(h)
    by_attempt = [mean([t[i] for t in trials]) for i in range(3)]
    # Clearly longer: by a factor (x1.4) and by more than scheduling noise (the 5 ms backoff-between-retries calls
    # a pause) — sub-millisecond jitter of an integration that does not wait at all must not pass for growth.
    if not (by_attempt[2] > by_attempt[0] * 1.4 and by_attempt[2] - by_attempt[0] >= GROWTH_FLOOR_S):
        raise _fail(
            "the average wait before the third retry to be clearly longer (x1.4, and by at least "
            f"{GROWTH_FLOOR_S * 1000:g} ms) than before the first",
            f"average waits per retry {[round(w * 1000, 1) for w in by_attempt]} ms over {len(trials)} trials",
            BACKOFF_FIX,
            exchanges,
            waits_s=trials,
        )


@check("error-handling.429-jitter", item=ITEM, title="Waits after 429 are jittered")
def backoff_jitter(h: Harness) -> None:
    trials, exchanges = _backoff_trials(h)
    # Normalise each wait by the average at its position, then pool: equal or full jitter spreads the pooled
    # values (relative spread ≈ 0.2–0.6); a fixed schedule leaves only scheduling noise (≈ 0.03).
    position_means = [mean([t[i] for t in trials]) for i in range(3)]
    # Too short to judge when the typical wait is: medians, so one scheduling stall over sockets (tens of ms in
    # one trial) does not lift an integration that never waits into a judgeable, "jittered" one.
    if max(statistics.median(t[i] for t in trials) for i in range(3)) < 0.005:
        raise NotVerifiable("the waits are too short to judge jitter; see error-handling.backoff-between-retries")
    pooled = [t[i] / position_means[i] for t in trials for i in range(3)]
    spread = coefficient_of_variation(pooled)
    if spread < 0.1:
        raise _fail(
            "waits that vary between trials (random jitter), so many clients do not retry in lockstep",
            f"nearly identical waits across {len(trials)} trials (relative spread {spread:.3f})",
            BACKOFF_FIX,
            exchanges,
            waits_s=trials,
        )


@check("error-handling.429-retry-after", item=ITEM, title="Retry-After is honoured")
def honours_retry_after(h: Harness) -> None:
    integration = h.integration()
    investor = h.active_investor()
    rule = FaultRule("retry-after", StatusFault(429, retry_after=1), method="GET", path=INVESTOR, first=1)
    outcome, attempts = _kyc_attempts(h, integration, investor, rule)
    observed = waits(attempts)
    if len(attempts) < 2 or observed[0] < 0.95:
        raise _fail(
            "after a 429 with Retry-After: 1, no retry for at least 1 s",
            f"{len(attempts)} attempts; waits {[round(w, 3) for w in observed]} s; the call {outcome.describe()}",
            "read Retry-After (seconds) on 429 and wait at least that long before retrying",
            attempts,
        )


@check("error-handling.429-bounded", item=ITEM, title="A persistent 429 ends in an error after bounded, capped waits")
def bounded_on_429(h: Harness) -> None:
    integration = h.integration()
    investor = h.active_investor()
    rule = FaultRule("persistent-429", StatusFault(429), method="GET", path=INVESTOR)
    limit = h.thresholds.max_attempts
    outcome, attempts = _kyc_attempts(
        h, integration, investor, rule, timeout=limit * h.thresholds.max_backoff_s, most=limit
    )
    longest = max(waits(attempts), default=0.0)
    if not outcome.finished or outcome.ok or len(attempts) > limit or longest > h.thresholds.max_backoff_s:
        raise _fail(
            f"at most {limit} attempts, no wait over {h.thresholds.max_backoff_s:g} s, then an error to the caller",
            f"{len(attempts)} attempts, longest wait {longest:.2f} s; the call {outcome.describe()}",
            "bound the number of attempts and cap each wait",
            attempts[:20],
        )


# -- 4xx, 5xx, timeouts --------------------------------------------------------------------------------------


def _not_retried(h: Harness, statuses: tuple[int, ...]) -> None:
    integration = h.integration()
    investor, bank = h.funded_investor()
    for status in statuses:
        code = DEFAULT_CODES[status]
        message = CATALOGUE[code].meaning
        rule = FaultRule(f"once-{status}", StatusFault(status, code=code, message=message), method="POST",
                         path=DEPOSITS, first=1)  # fmt: skip
        mark = h.mark()
        with h.capture_logs() as logs, h.faults(rule):
            outcome = call(lambda: integration.deposit(investor, bank, "3.00"), clock=h.clock)
        attempts = h.exchanges_since(mark, method="POST", path_endswith="/deposits")
        require_traffic(attempts, outcome, "deposit()")
        if len(attempts) != 1:
            raise _fail(
                f"exactly one attempt for a {status} (it will fail the same way again)",
                f"{len(attempts)} attempts; the call {outcome.describe()}",
                f"do not retry {status}: surface it to the caller with its code and X-Request-Id",
                attempts,
            )
        if outcome.ok:
            _surfaced_in_logs(h, status, code, message, logs, attempts[0], outcome)


def _surfaced_in_logs(h: Harness, status: int, code: str, message: str, logs: LogCapture,
                      attempt: Exchange, outcome: Any) -> None:  # fmt: skip
    """An operation that returned after a refusal must have logged it at WARNING or above with Bluum's code or
    message; an access-log line with the status is not telling anyone the operation failed."""
    entries = _logs.read(logs.lines)
    warned = [e for e in entries if _logs.warns_about(e, code, message)]
    h.evidence.setdefault("refusals_logged", []).append(
        {
            "status": status,
            "code": code,
            "scanned": _logs.scanned(logs.lines),
            "lines": [e.describe() for e in warned][:3],
        }
    )
    if warned:
        return
    # the line that shows the refusal's status first (a library's debug line may hold the request id too)
    rid = attempt.request_id or ""
    shows = sorted((e for e in entries if _logs.logs_without_id(e, attempt)), key=lambda e: not e.mentions(rid))
    access = shows + [e for e in entries if e not in shows and e.mentions(rid)]
    returned = f"deposit() {outcome.describe()} as if it had succeeded"
    if access:
        observed = (f"{returned}, while only an access-log line shows the {status} ({access[0].describe(160)}): no "
                    "error reached the caller or a WARNING-level log")  # fmt: skip
    else:
        observed = f"{returned}, and no log line at WARNING or above names {code} or its message"
    raise _fail(
        f"the {status} surfaced to the caller (an exception), or logged at WARNING or above with Bluum's code "
        f"({code}) or message",
        observed,
        "raise an error carrying the Bluum code and X-Request-Id (so the caller knows the operation failed), or at "
        "least log it at WARNING with the code",
        [attempt],
    )


@check("error-handling.400-not-retried", item=ITEM, title="A 400 is not retried, and surfaces")
def not_retried_400(h: Harness) -> None:
    _not_retried(h, (400,))


@check("error-handling.4xx-not-retried", item=ITEM, title="403, 404, 409 and 422 are not retried, and surface")
def not_retried_4xx(h: Harness) -> None:
    _not_retried(h, (403, 404, 409, 422))


@check("error-handling.5xx-retried", item=ITEM, title="500, 502, 503 and 504 are retried until success")
def retried_5xx(h: Harness) -> None:
    integration = h.integration()
    investor, bank = h.funded_investor()
    for status in (500, 502, 503, 504):
        rule = FaultRule(f"once-{status}", StatusFault(status), method="POST", path=DEPOSITS, first=1)
        mark = h.mark()
        with h.faults(rule):
            outcome = call(lambda: integration.deposit(investor, bank, "4.00"), clock=h.clock)
        attempts = h.exchanges_since(mark, method="POST", path_endswith="/deposits")
        require_traffic(attempts, outcome, "deposit()")
        if len(attempts) < 2 or not outcome.ok:
            raise _fail(
                f"a {status} retried until it succeeds (key reuse is judged by idempotency.same-key-on-retry)",
                f"{len(attempts)} attempts; the call {outcome.describe()}",
                BACKOFF_FIX,
                attempts,
            )


@check("error-handling.backoff-between-retries", item=ITEM, title="Retries wait (backoff), never hammer")
def backoff_between_retries(h: Harness) -> None:
    trials, exchanges = _backoff_trials(h, status=503, failures=2)
    first_waits = [t[0] for t in trials] + [t[1] for t in trials]
    if mean(first_waits) < 0.005:
        raise _fail(
            "a pause before each retry of a 5xx (on average at least 5 ms)",
            f"retries after {[round(w * 1000, 2) for w in first_waits]} ms",
            BACKOFF_FIX,
            exchanges,
            waits_s=trials,
        )


@check("error-handling.timeout-retried", item=ITEM, title="A request that timed out is retried")
def timeout_retried(h: Harness) -> None:
    integration = h.integration()
    investor, bank = h.funded_investor()
    hang = HangBeforeFault(seconds=h.thresholds.request_timeout_s * 3)
    rule = FaultRule("timeout-before", hang, method="POST", path=DEPOSITS, first=1)
    mark = h.mark()
    with h.faults(rule):
        outcome = call(lambda: integration.deposit(investor, bank, "6.00"), clock=h.clock)
    attempts = h.exchanges_since(mark, method="POST", path_endswith="/deposits")
    require_traffic(attempts, outcome, "deposit()")
    if len(attempts) < 2 or not outcome.ok:
        raise _fail(
            "a request that timed out retried until it succeeds (key reuse: idempotency.same-key-on-retry)",
            f"{len(attempts)} attempts; the call {outcome.describe()}",
            "treat timeouts and dropped connections as retryable; reuse the operation's Idempotency-Key",
            attempts,
        )


def _timeout_bounds(request_timeout_s: float) -> tuple[float, float]:
    """(longest wait we accept on a request the target never answers, how long the proxy holds it silent).

    The limit sits a wide margin over ``request_timeout_s`` (at least a second), so a loaded machine never
    pushes a client that honours its timeout over it; the hang outlasts the limit by as much again, so a
    client without a timeout is seen waiting all of it. Both are bounded: the check never costs more than the
    hang."""
    limit = request_timeout_s + max(request_timeout_s, 1.0)
    return limit, limit + max(request_timeout_s, 0.5)


@check("error-handling.request-timeout", item=ITEM, title="Every request has a timeout: a hung request is abandoned")
def request_timeout(h: Harness) -> None:
    integration = h.integration()
    investor = h.active_investor()
    timeout = h.thresholds.request_timeout_s
    limit, hang = _timeout_bounds(timeout)
    rule = FaultRule("hang-once", HangBeforeFault(seconds=hang), method="GET", path=INVESTOR, first=1)
    mark = h.mark()
    with h.faults(rule):
        began = h.clock()
        outcome = call(lambda: integration.kyc_status(investor), timeout=hang + 10, clock=h.clock)
        elapsed = h.clock() - began
    attempts = sorted(h.exchanges_since(mark, method="GET"), key=lambda x: x.seq)
    require_traffic(attempts, outcome, "kyc_status()")
    if not attempts:
        raise NotVerifiable(f"kyc_status() sent no request ({outcome.describe()}), so its timeout cannot be judged")
    first = attempts[0]
    # How long the integration waited on the silent request: until it hung up (what the proxy saw), started
    # its next attempt, or returned to its caller — whichever came first (each is an upper bound).
    waited = first.duration_ms / 1000
    if len(attempts) > 1:
        waited = min(waited, attempts[1].started - first.started)
    if outcome.finished:
        waited = min(waited, elapsed)
    h.evidence["request_timeout"] = {"request_timeout_s": timeout, "limit_s": limit, "hang_s": hang,
                                     "waited_s": round(waited, 3)}  # fmt: skip
    if waited > limit:
        raise _fail(
            f"a request the target never answers abandoned after about request_timeout_s ({timeout:g} s; at most "
            f"{limit:g} s accepted)",
            f"no request timeout: the first attempt waited {waited:.2f} s on a request held silent for {hang:g} s "
            + ("(until the proxy hung up" if waited >= hang * 0.95 else "(a timeout far over request_timeout_s")
            + f"; the call {outcome.describe()})",
            "give every request a timeout, e.g. httpx.Client(timeout=env.request_timeout_s); without one a target "
            "that never answers blocks the caller (and its worker) forever",
            attempts,
        )
