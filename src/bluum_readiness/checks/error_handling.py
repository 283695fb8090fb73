"""Checks of the ``error-handling`` item: 401 refresh, 429 backoff, 4xx not retried, 5xx, timeouts and dropped
connections retried, a timeout on every request.

Scenarios drive the integration once each and record what they saw; the judges below read only those facts
(``checks/observation.py``, ``checks/judge.py``). A judge names the cause of a failure from the catalogue, so one
defect ("no retries at all") reads as one cause however many checks it fails."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

from bluum_readiness.checks import _logs
from bluum_readiness.checks._support import (
    DEPOSITS,
    INVESTOR,
    exception_text,
    mean,
    read_capability,
    robust_spread,
    target_outage,
)

# idempotency registers the retried-deposits scenario, one of whose facts is judged here
from bluum_readiness.checks.idempotency import KEY_FIX, RETRY_FAULTS
from bluum_readiness.checks.judge import Facts, Finding, Fix, Unjudged, Verdict, judged
from bluum_readiness.checks.observation import Probe, Scene, scenario
from bluum_readiness.harness import TARGET_FAILED, LogLine
from bluum_readiness.integration import Credentials
from bluum_readiness.proxy.faults import HangBeforeFault, StatusFault
from bluum_readiness.proxy.faults.status import DEFAULT_CODES
from bluum_readiness.proxy.rules import FaultRule
from bluum_readiness.twin.errors import CATALOGUE

ITEM = "error-handling"
GROWTH_FLOOR_S = 0.005  # how much longer the third retry's wait must be than the first's, at least
SHORTEST_JUDGEABLE_WAIT_S = 0.005  # typical waits under this are scheduling noise: no jitter can be read from them
BACKOFF_FAILURES = {429: 3, 503: 2}  # consecutive faults per backoff trial, by status
REFUSALS = (400, 403, 404, 409, 422)
SERVER_ERRORS = (500, 502, 503, 504)
SECRET = "[the API secret]"  # what the secret-exposure scenario writes where it found the secret (never the secret)

BACKOFF_FIX = Fix(
    "retry 429 and 5xx with capped exponential backoff and full jitter: sleep(uniform(0, min(cap, base·2^n)))",
    {
        "python": "tenacity's wait_random_exponential, or random.uniform(0, min(cap, base * 2 ** n))",
        "node": "p-retry / axios-retry with randomize, or Math.random() * Math.min(cap, base * 2 ** n)",
        "go": "time.Duration(rand.Int63n(int64(min(cap, base<<n)))) between attempts",
        "java": "ThreadLocalRandom.current().nextLong(Math.min(cap, base << n)) between attempts",
    },
)
RETRY_FIX = Fix(
    "treat 429, 5xx, timeouts and dropped connections as retryable: retry with backoff (bounded attempts), reusing "
    "the operation's Idempotency-Key",
    BACKOFF_FIX.hints,
)
TIMEOUT_FIX = Fix(
    "give every request a timeout of about request_timeout_s; without one a target that never answers blocks the "
    "caller (and its worker) forever",
    {
        "python": "httpx.Client(timeout=env.request_timeout_s) / requests' timeout=",
        "node": "fetch(url, {signal: AbortSignal.timeout(ms)}) or axios' timeout option",
        "go": "http.Client{Timeout: timeout}",
        "java": "HttpRequest.newBuilder().timeout(Duration.ofSeconds(...))",
    },
)


def _attempts(probe: Probe) -> str:
    return f"{probe.attempts_text()}; the call {probe.outcome.describe()}"


# -- 401 ---------------------------------------------------------------------------------------------------------


@scenario("rotation-401", facts=("after_rotation",), twin_only=True)
def _rotation_401(s: Scene) -> None:
    """The pair is rotated at the target and the old one revoked; the integration's next call meets a 401."""
    h = s.h
    investor = h.active_investor()
    warm = s.probe("kyc_status()", lambda i: i.kyc_status(investor))
    if not warm.outcome.ok:
        s.missing("after_rotation", f"kyc_status() failed before any fault ({warm.outcome.describe()})")
        return
    old = h.credentials.current
    fresh = h.sandbox("POST", "/api-keys", json={"name": "suite-401-refresh"})
    h.credentials.set(Credentials(fresh["key"], fresh["secret"]))
    h.sandbox("POST", f"/api-keys/{old.key}/revoke")
    s.fact("after_rotation", s.probe("kyc_status()", lambda i: i.kyc_status(investor)))


@judged(
    "error-handling.401-refresh",
    item=ITEM,
    title="A 401 makes the integration re-read its credentials",
    needs=("rotation-401.after_rotation",),
    twin_only=True,
)
def refresh_on_401(facts: Facts) -> Verdict:
    probe: Probe = facts["rotation-401.after_rotation"]
    if probe.outcome.ok:
        return None
    return Finding(
        "credentials-cached",
        "after its key pair is rotated and the old one revoked, the next call gets 401, re-reads the credentials "
        "from the secret source and succeeds",
        f"the call {probe.outcome.describe()}",
        "on 401, fetch the current pair from your secret manager again and retry once (bounded)",
        probe.attempts,
    )


@scenario("persistent-401", facts=("probe",))
def _persistent_401(s: Scene) -> None:
    investor = s.h.active_investor()
    rule = FaultRule("persistent-401", StatusFault(401), method="GET", path=INVESTOR)
    s.fact("probe", s.probe("kyc_status()", lambda i: i.kyc_status(investor), rule, method="GET", timeout=5.0, most=3))


@judged(
    "error-handling.401-bounded",
    item=ITEM,
    title="A persistent 401 is not retried forever",
    needs=("persistent-401.probe",),
)
def bounded_on_401(facts: Facts) -> Verdict:
    probe: Probe = facts["persistent-401.probe"]
    if probe.outcome.finished and probe.count <= 3 and not probe.outcome.ok:
        return None
    cause = "failure-swallowed" if probe.outcome.ok and probe.count <= 3 else "unbounded-retries"
    return Finding(
        cause,
        "at most 3 attempts under a persistent 401, then an error to the caller",
        _attempts(probe),
        "after one credential refresh, give up on 401 and raise",
        probe.attempts[:20],
    )


# -- the secret ----------------------------------------------------------------------------------------------------


@scenario("secret-exposure", facts=("sources",))
def _secret_exposure(s: Scene) -> None:
    """A 401 and a 400, then everything the integration wrote: its log, its exceptions' texts, its request log —
    with every occurrence of the secret (or the Basic token) replaced by a marker, so the observation never holds
    the secret itself."""
    h = s.h
    integration = s.integration
    investor, bank = h.funded_investor()
    pair = h.credentials.current
    rules = (
        FaultRule("log-401", StatusFault(401), method="GET", path=INVESTOR, first=1),
        FaultRule("log-400", StatusFault(400), method="POST", path=DEPOSITS, first=1),
    )
    raw: list[tuple[str, str]] = []
    mark = h.mark()
    with h.capture_logs() as logs, h.faults(*rules):
        for name, operation in (
            ("kyc_status()", lambda: integration.kyc_status(investor)),
            ("deposit()", lambda: integration.deposit(investor, bank, "1.00")),
        ):
            outcome = h.invoke(operation)
            if outcome.error is not None:
                raw.append((f"the exception raised by {name}", exception_text(outcome.error)))
    if not h.exchanges_since(mark):
        s.missing("sources", "the integration sent no request, so there was nothing it could have logged")
        return
    raw += _logs.sources(logs.lines, read_capability(integration, "request_log")[0]).items()
    s.evidence("scanned", _logs.sizes(logs.lines, dict(raw)))
    marked = [[where, text.replace(pair.secret, SECRET).replace(pair.basic_token(), SECRET)] for where, text in raw]
    s.fact("sources", marked)


@judged(
    "error-handling.secret-never-logged",
    item=ITEM,
    title="The API secret never appears in logs or errors",
    needs=("secret-exposure.sources",),
)
def secret_never_logged(facts: Facts) -> Verdict:
    sources: list[list[str]] = facts["secret-exposure.sources"]
    if not any(text for _, text in sources):
        return Unjudged(
            "the integration logged nothing and its errors carried no text, so there was nothing to scan for the "
            "secret — a scan of nothing is not a pass"
        )
    leaks = [where for where, text in sources if SECRET in text]
    if not leaks:
        return None
    return Finding(
        "secret-exposed",
        "no trace of the API secret (or the Basic authorization header) in logs, errors or request logs",
        f"the secret appears in the integration's output ({', '.join(leaks)})",
        "never log request headers or credentials, nor put them in exception messages; log method, path, status, "
        "X-Request-Id and duration only",
        evidence={"where": leaks, "searched": [where for where, _ in sources]},
    )


# -- backoff -------------------------------------------------------------------------------------------------------


def _backoff(s: Scene, status: int) -> None:
    """Trials of ``BACKOFF_FAILURES[status]`` consecutive faults before success, on ``kyc_status``; they stop at the
    first trial the integration did not come through (the judges read it)."""
    failures = BACKOFF_FAILURES[status]
    investor = s.h.active_investor()
    trials: list[Probe] = []
    waits: list[list[float]] = []
    # the report charts these waits against the allowed envelope
    s.evidence("backoff", {"status": status, "waits_s": waits, "max_backoff_s": s.thresholds.max_backoff_s})
    for trial in range(s.thresholds.backoff_trials):
        rule = FaultRule(f"backoff-{status}-{trial}", StatusFault(status), method="GET", path=INVESTOR, first=failures)
        most = failures + s.thresholds.max_attempts
        probe = s.probe("kyc_status()", lambda i: i.kyc_status(investor), rule, method="GET", most=most)
        if not probe.attempts:
            sent = f"kyc_status() sent no request ({probe.outcome.describe()})"
            s.missing("trials", f"{sent}, so its retries cannot be judged")
            return
        trials.append(probe)
        if probe.count <= failures or not probe.outcome.ok:
            break
        waits.append(probe.waits_s[:failures])
    s.fact("trials", trials)


@scenario("backoff-429", facts=("trials",))
def _backoff_429(s: Scene) -> None:
    _backoff(s, 429)


@scenario("backoff-503", facts=("trials",))
def _backoff_503(s: Scene) -> None:
    _backoff(s, 503)


def _outage_after(probe: Probe, faulted: int, faults: str) -> Unjudged | None:
    """Not verifiable when the target itself failed (a 5xx) the retries after the first ``faulted`` attempts, which
    met the suite's ``faults``: the target's outage, which the integration surfacing is right to."""
    outage = target_outage(probe.attempts[faulted:])
    if outage is None:
        return None
    return Unjudged(
        f"after {faults}, the target itself answered {outage.status} (request {outage.request_id}) to a retry of "
        f"{probe.attempts_text()}: {TARGET_FAILED}"
    )


def _came_through(trials: Sequence[Probe], status: int) -> Finding | Unjudged | None:
    """A finding for the first trial the integration did not come through (too few attempts, or no success); not
    verifiable when it retried past the injected faults and the target itself failed those retries (its outage)."""
    failures = BACKOFF_FAILURES[status]
    for probe in trials:
        if probe.count > failures and probe.outcome.ok:
            continue
        outage = _outage_after(probe, failures, f"the {failures} injected {status}s")
        if outage is not None:
            return outage
        if probe.count == 1:
            cause, what = "no-retries", f"never retried after a {status}"
        else:
            cause, what = "gives-up-too-soon", f"did not come through {failures} consecutive {status}s"
        return Finding(
            cause,
            f"retries through {failures} consecutive {status}s, then success",
            f"{what}: {_attempts(probe)}",
            RETRY_FIX if cause == "no-retries" else BACKOFF_FIX,
            probe.attempts,
        )
    return None


def _waits(trials: Sequence[Probe], status: int) -> list[list[float]]:
    return [probe.waits_s[: BACKOFF_FAILURES[status]] for probe in trials]


def _typical_waits(waits: Sequence[Sequence[float]]) -> list[float]:
    """The typical wait before each of the three retries: the median over the trials, so a few scheduling stalls
    over sockets on a loaded machine (tens of ms in one trial) move neither growth nor jitter."""
    return [statistics.median(t[i] for t in waits) for i in range(3)]


def _all_exchanges(trials: Sequence[Probe]) -> list[Any]:
    return [x for probe in trials for x in probe.attempts]


@judged(
    "error-handling.429-backoff-grows",
    item=ITEM,
    title="Waits after 429 grow exponentially, and it recovers",
    needs=("backoff-429.trials",),
)
def backoff_grows(facts: Facts) -> Verdict:
    trials: list[Probe] = facts["backoff-429.trials"]
    stopped = _came_through(trials, 429)
    if stopped is not None:
        return stopped
    waits = _waits(trials, 429)
    by_attempt = [mean([t[i] for t in waits]) for i in range(3)]
    typical = _typical_waits(waits)
    # Clearly longer: by a factor (x1.4) and by more than scheduling noise (the 5 ms backoff-between-retries calls
    # a pause) — sub-millisecond jitter of an integration that does not wait at all must not pass for growth. The
    # averages judge the growth (full jitter draws from zero: its medians over 8 trials vary too much to compare);
    # the typical (median) wait at some retry must be a real pause too, so a few scheduling stalls over sockets on a
    # loaded machine never lift the averages of a client that does not wait into growth.
    grows = by_attempt[2] > by_attempt[0] * 1.4 and by_attempt[2] - by_attempt[0] >= GROWTH_FLOOR_S
    if grows and max(typical) >= SHORTEST_JUDGEABLE_WAIT_S:
        return None
    return Finding(
        "no-backoff" if max(typical) < SHORTEST_JUDGEABLE_WAIT_S else "backoff-not-growing",
        "the average wait before the third retry to be clearly longer (x1.4, and by at least "
        f"{GROWTH_FLOOR_S * 1000:g} ms) than before the first, with typical (median) waits of at least "
        f"{SHORTEST_JUDGEABLE_WAIT_S * 1000:g} ms",
        f"average waits per retry {[round(w * 1000, 1) for w in by_attempt]} ms, median "
        f"{[round(w * 1000, 1) for w in typical]} ms, over {len(waits)} trials",
        BACKOFF_FIX,
        _all_exchanges(trials),
        {"waits_s": waits},
    )


@judged("error-handling.429-jitter", item=ITEM, title="Waits after 429 are jittered", needs=("backoff-429.trials",))
def backoff_jitter(facts: Facts) -> Verdict:
    trials: list[Probe] = facts["backoff-429.trials"]
    stopped = _came_through(trials, 429)
    if stopped is not None:
        return stopped
    waits = _waits(trials, 429)
    # Normalise each wait by the typical (median) wait at its position, then pool: equal or full jitter spreads the
    # pooled values (interquartile range over the median ≈ 0.25–1); a fixed schedule leaves only scheduling noise
    # (≈ 0.01). Medians and quartiles throughout, so one scheduling stall over sockets (tens of ms in one
    # trial) neither lifts a client that never waits into a judgeable one nor makes a fixed schedule look jittered.
    position_medians = _typical_waits(waits)
    if max(position_medians) < SHORTEST_JUDGEABLE_WAIT_S:
        return Unjudged("the waits are too short to judge jitter; see error-handling.backoff-between-retries")
    pooled = [t[i] / position_medians[i] for t in waits for i in range(3) if position_medians[i] > 0]
    spread = robust_spread(pooled)
    if spread >= 0.1:
        return None
    return Finding(
        "no-jitter",
        "waits that vary between trials (random jitter), so many clients do not retry in lockstep",
        f"nearly identical waits across {len(waits)} trials (relative spread {spread:.3f})",
        BACKOFF_FIX,
        _all_exchanges(trials),
        {"waits_s": waits},
    )


@judged(
    "error-handling.backoff-between-retries",
    item=ITEM,
    title="Retries wait (backoff), never hammer",
    needs=("backoff-503.trials",),
)
def backoff_between_retries(facts: Facts) -> Verdict:
    trials: list[Probe] = facts["backoff-503.trials"]
    if trials and trials[0].count == 1:
        return Unjudged("the integration does not retry 503 at all; see error-handling.5xx-retried")
    stopped = _came_through(trials, 503)
    if stopped is not None:
        return stopped
    waits = _waits(trials, 503)
    first_waits = [t[0] for t in waits] + [t[1] for t in waits]
    # The median, not the mean: over sockets on a loaded machine a few scheduling stalls (tens of ms) would lift a
    # client that never waits over the floor; a client that backs off waits in most of its retries.
    if statistics.median(first_waits) >= SHORTEST_JUDGEABLE_WAIT_S:
        return None
    return Finding(
        "no-backoff",
        "a pause before each retry of a 5xx (typically, the median wait: at least 5 ms)",
        f"retries after {[round(w * 1000, 2) for w in first_waits]} ms",
        BACKOFF_FIX,
        _all_exchanges(trials),
        {"waits_s": waits},
    )


# -- 429: Retry-After, bounds --------------------------------------------------------------------------------------


@scenario("retry-after", facts=("probe",), side_by_side=True)
def _retry_after(s: Scene) -> None:
    investor = s.h.active_investor()
    rule = FaultRule("retry-after", StatusFault(429, retry_after=1), method="GET", path=INVESTOR, first=1)
    s.fact("probe", s.probe("kyc_status()", lambda i: i.kyc_status(investor), rule, method="GET"))


@judged("error-handling.429-retry-after", item=ITEM, title="Retry-After is honoured", needs=("retry-after.probe",))
def honours_retry_after(facts: Facts) -> Verdict:
    probe: Probe = facts["retry-after.probe"]
    waits = probe.waits_s
    if probe.count >= 2 and waits[0] >= 0.95:
        return None
    expected = "after a 429 with Retry-After: 1, no retry for at least 1 s"
    if probe.count < 2:
        return Finding(
            "no-retries",
            expected,
            f"never retried after the 429, so whether it honours Retry-After could not be judged ({_attempts(probe)})",
            RETRY_FIX,
            probe.attempts,
        )
    return Finding(
        "retry-after-ignored",
        expected,
        f"{probe.attempts_text()}; waits {[round(w, 3) for w in waits]} s; the call {probe.outcome.describe()}",
        "read Retry-After (seconds) on 429 and wait at least that long before retrying",
        probe.attempts,
    )


@scenario("persistent-429", facts=("probe", "bounds"), side_by_side=True)
def _persistent_429(s: Scene) -> None:
    investor = s.h.active_investor()
    rule = FaultRule("persistent-429", StatusFault(429), method="GET", path=INVESTOR)
    bounds = s.fact("bounds", {"max_attempts": s.thresholds.max_attempts, "max_backoff_s": s.thresholds.max_backoff_s})
    timeout = bounds["max_attempts"] * bounds["max_backoff_s"]
    most = bounds["max_attempts"]
    s.fact(
        "probe",
        s.probe("kyc_status()", lambda i: i.kyc_status(investor), rule, method="GET", timeout=timeout, most=most),
    )


@judged(
    "error-handling.429-bounded",
    item=ITEM,
    title="A persistent 429 ends in an error after bounded, capped waits",
    needs=("persistent-429.probe", "persistent-429.bounds"),
)
def bounded_on_429(facts: Facts) -> Verdict:
    probe: Probe = facts["persistent-429.probe"]
    bounds: dict[str, Any] = facts["persistent-429.bounds"]
    limit, cap = bounds["max_attempts"], bounds["max_backoff_s"]
    longest = max(probe.waits_s, default=0.0)
    if not probe.outcome.finished or probe.count > limit:
        cause = "unbounded-retries"
    elif longest > cap:
        cause = "backoff-uncapped"
    elif probe.outcome.ok:
        cause = "failure-swallowed"
    else:
        return None
    return Finding(
        cause,
        f"at most {limit} attempts, no wait over {cap:g} s, then an error to the caller",
        f"{probe.attempts_text()}, longest wait {longest:.2f} s; the call {probe.outcome.describe()}",
        "bound the number of attempts and cap each wait",
        probe.attempts[:20],
    )


# -- 4xx refused, 5xx retried ----------------------------------------------------------------------------------------


@scenario("refusals", facts=tuple(f"status-{status}" for status in REFUSALS))
def _refusals(s: Scene) -> None:
    """One deposit per refusal status, each answered once with that status and Bluum's error body; per status the
    attempts and what the integration logged meanwhile."""
    investor, bank = s.h.funded_investor()
    for status in REFUSALS:
        code = DEFAULT_CODES[status]
        fault = StatusFault(status, code=code, message=CATALOGUE[code].meaning)
        rule = FaultRule(f"once-{status}", fault, method="POST", path=DEPOSITS, first=1)
        with s.capture_logs() as logs:
            probe = s.probe(
                "deposit()", lambda i: i.deposit(investor, bank, "3.00"), rule, method="POST", path_endswith="/deposits"
            )
        s.fact(f"status-{status}", {"probe": probe, "code": code, "message": fault.message, "log": tuple(logs.lines)})


def _not_retried(refusals: Sequence[dict[str, Any]]) -> Verdict:
    for refusal in refusals:
        probe: Probe = refusal["probe"]
        status = probe.attempts[0].status if probe.attempts else None
        if probe.count != 1:
            return Finding(
                "client-errors-retried",
                f"exactly one attempt for a {status} (it will fail the same way again)",
                _attempts(probe),
                f"do not retry {status}: surface it to the caller with its code and X-Request-Id",
                probe.attempts,
            )
        if probe.outcome.ok:
            found = _surfaced_in_logs(refusal)
            if found is not None:
                return found
    return None


def _surfaced_in_logs(refusal: dict[str, Any]) -> Finding | None:
    """An operation that returned after a refusal must have logged it at WARNING or above with Bluum's code or
    message; an access-log line with the status is not telling anyone the operation failed."""
    probe: Probe = refusal["probe"]
    code, message = refusal["code"], refusal["message"]
    lines: Sequence[LogLine] = refusal["log"]
    attempt = probe.attempts[0]
    status = attempt.status
    entries = _logs.read(lines)
    warned = [e for e in entries if _logs.warns_about(e, code, message)]
    refusal_logged = {
        "status": status,
        "code": code,
        "scanned": _logs.scanned(lines),
        "lines": [e.describe() for e in warned][:3],
    }
    if warned:
        return None
    # the line that shows the refusal's status first (a library's debug line may hold the request id too)
    rid = attempt.request_id or ""
    shows = sorted((e for e in entries if _logs.logs_without_id(e, attempt)), key=lambda e: not e.mentions(rid))
    access = shows + [e for e in entries if e not in shows and e.mentions(rid)]
    returned = f"deposit() {probe.outcome.describe()} as if it had succeeded"
    if access:
        shown = access[0].describe(160)
        observed = (
            f"{returned}, while only an access-log line shows the {status} ({shown}): no error reached the "
            "caller or a WARNING-level log"
        )
    else:
        observed = f"{returned}, and no log line at WARNING or above names {code} or its message"
    return Finding(
        "failure-swallowed",
        f"the {status} surfaced to the caller (an exception), or logged at WARNING or above with Bluum's code "
        f"({code}) or message",
        observed,
        "raise an error carrying the Bluum code and X-Request-Id (so the caller knows the operation failed), or at "
        "least log it at WARNING with the code",
        [attempt],
        {"refusals_logged": [refusal_logged]},
    )


@judged(
    "error-handling.400-not-retried",
    item=ITEM,
    title="A 400 is not retried, and surfaces",
    needs=("refusals.status-400",),
)
def not_retried_400(facts: Facts) -> Verdict:
    return _not_retried([facts["refusals.status-400"]])


@judged(
    "error-handling.4xx-not-retried",
    item=ITEM,
    title="403, 404, 409 and 422 are not retried, and surface",
    needs=tuple(f"refusals.status-{status}" for status in REFUSALS[1:]),
)
def not_retried_4xx(facts: Facts) -> Verdict:
    return _not_retried([facts[f"refusals.status-{status}"] for status in REFUSALS[1:]])


@scenario("server-errors", facts=tuple(f"status-{status}" for status in SERVER_ERRORS))
def _server_errors(s: Scene) -> None:
    investor, bank = s.h.funded_investor()
    for status in SERVER_ERRORS:
        rule = FaultRule(f"once-{status}", StatusFault(status), method="POST", path=DEPOSITS, first=1)
        probe = s.probe(
            "deposit()", lambda i: i.deposit(investor, bank, "4.00"), rule, method="POST", path_endswith="/deposits"
        )
        s.fact(f"status-{status}", probe)


def _unkeyed_transfer(probe: Probe) -> bool:
    """Every attempt is a deposit or withdrawal sent without an Idempotency-Key, and the last was refused with 400
    (as Bluum refuses those)."""
    return (
        bool(probe.attempts)
        and probe.attempts[-1].status == 400
        and all(
            x.method == "POST" and x.idempotency_key is None and x.path.endswith(("/deposits", "/withdrawals"))
            for x in probe.attempts
        )
    )


def _retried(probe: Probe, what: str) -> Finding | Unjudged | None:
    if probe.count >= 2 and probe.outcome.ok:
        return None
    outage = _outage_after(probe, 1, "the injected fault")  # the first attempt met it: the rest are retries
    if outage is not None:
        return outage
    if probe.count >= 2 and _unkeyed_transfer(probe):
        # It did retry; the target refused the retry for its missing key (BLUM-400-002), so the defect is the key
        return Finding(
            "no-idempotency-key",
            f"{what} retried until it succeeds, every attempt with the operation's Idempotency-Key",
            f"{_attempts(probe)}; no attempt carried an Idempotency-Key, which Bluum requires on deposits and "
            "withdrawals",
            KEY_FIX,
            probe.attempts,
        )
    if probe.count == 1:
        cause, fix = "no-retries", RETRY_FIX
    else:
        cause, fix = "gives-up-too-soon", BACKOFF_FIX
    return Finding(
        cause,
        f"{what} retried until it succeeds (key reuse is judged by idempotency.same-key-on-retry)",
        _attempts(probe),
        fix,
        probe.attempts,
    )


@judged(
    "error-handling.5xx-retried",
    item=ITEM,
    title="500, 502, 503 and 504 are retried until success",
    needs=tuple(f"server-errors.status-{status}" for status in SERVER_ERRORS),
)
def retried_5xx(facts: Facts) -> Verdict:
    verdicts = [_retried(facts[f"server-errors.status-{status}"], f"a {status}") for status in SERVER_ERRORS]
    # a finding first: a status the target itself failed on after the fault (not verifiable) never hides one
    return next((v for v in verdicts if isinstance(v, Finding)), None) or next((v for v in verdicts if v), None)


# -- timeouts ----------------------------------------------------------------------------------------------------------


@scenario("timeout-once", facts=("probe",), side_by_side=True)
def _timeout_once(s: Scene) -> None:
    investor, bank = s.h.funded_investor()
    hang = HangBeforeFault(seconds=s.thresholds.request_timeout_s * 3)
    rule = FaultRule("timeout-before", hang, method="POST", path=DEPOSITS, first=1)
    s.fact(
        "probe",
        s.probe(
            "deposit()", lambda i: i.deposit(investor, bank, "6.00"), rule, method="POST", path_endswith="/deposits"
        ),
    )


@judged(
    "error-handling.timeout-retried",
    item=ITEM,
    title="A request that timed out is retried",
    needs=("timeout-once.probe",),
)
def timeout_retried(facts: Facts) -> Verdict:
    return _retried(facts["timeout-once.probe"], "a request that timed out")


DROPPED = f"retried-deposits.{RETRY_FAULTS[2]}"


@judged(
    "error-handling.dropped-connection-retried",
    item=ITEM,
    title="A dropped connection is retried",
    needs=(DROPPED,),
)
def dropped_connection_retried(facts: Facts) -> Verdict:
    """The idempotency item's deposit whose connection dropped after the target committed it, on a connection of its
    own (so the drop reaches the integration's code, not a transport's resend): retried until it succeeds. Against
    Bluum's sandbox this is the check that sees a client give up on a dropped connection (``exactly-once`` needs the
    twin's ledger)."""
    probe: Probe = facts[DROPPED]
    if probe.count >= 2 and probe.attempts[0].reused_connection:
        return Unjudged(
            "the dropped attempt came on a connection the integration had used before, and an HTTP transport (Go's) "
            "resends such a request on its own: whether the integration's code retries it could not be seen"
        )
    return _retried(probe, "a deposit whose connection dropped before its answer")


def _timeout_bounds(request_timeout_s: float) -> tuple[float, float]:
    """(longest wait we accept on a request the target never answers, how long the proxy holds it silent).

    The limit sits a wide margin over ``request_timeout_s`` (at least a second), so a loaded machine never
    pushes a client that honours its timeout over it; the hang outlasts the limit by as much again, so a
    client without a timeout is seen waiting all of it. Both are bounded: the check never costs more than the
    hang."""
    limit = request_timeout_s + max(request_timeout_s, 1.0)
    return limit, limit + max(request_timeout_s, 0.5)


@scenario("hung-request", facts=("probe", "bounds"), side_by_side=True)
def _hung_request(s: Scene) -> None:
    """One request held silent well past the request timeout: how long the integration waited on it."""
    investor = s.h.active_investor()
    timeout = s.thresholds.request_timeout_s
    limit, hang = _timeout_bounds(timeout)
    rule = FaultRule("hang-once", HangBeforeFault(seconds=hang), method="GET", path=INVESTOR, first=1)
    probe = s.probe("kyc_status()", lambda i: i.kyc_status(investor), rule, method="GET", timeout=hang + 10)
    if not probe.attempts:
        s.missing(
            ("probe", "bounds"),
            f"kyc_status() sent no request ({probe.outcome.describe()}), so its timeout cannot be judged",
        )
        return
    s.fact("bounds", {"request_timeout_s": timeout, "limit_s": limit, "hang_s": hang})
    s.fact("probe", probe)
    s.evidence(
        "request_timeout",
        {"request_timeout_s": timeout, "limit_s": limit, "hang_s": hang, "waited_s": round(_waited(probe), 3)},
    )


def _waited(probe: Probe) -> float:
    """How long the integration waited on the silent first request: until it hung up (what the proxy saw),
    started its next attempt, or returned to its caller — whichever came first (each is an upper bound)."""
    first = probe.attempts[0]
    waited = first.duration_ms / 1000
    if probe.count > 1:
        waited = min(waited, probe.attempts[1].started - first.started)
    if probe.elapsed_s is not None:
        waited = min(waited, probe.elapsed_s)
    return waited


@judged(
    "error-handling.request-timeout",
    item=ITEM,
    title="Every request has a timeout: a hung request is abandoned",
    needs=("hung-request.probe", "hung-request.bounds"),
)
def request_timeout(facts: Facts) -> Verdict:
    probe: Probe = facts["hung-request.probe"]
    bounds: dict[str, float] = facts["hung-request.bounds"]
    timeout, limit, hang = bounds["request_timeout_s"], bounds["limit_s"], bounds["hang_s"]
    waited = _waited(probe)
    if waited <= limit:
        return None
    until = "(until the proxy hung up" if waited >= hang * 0.95 else "(a timeout far over request_timeout_s"
    return Finding(
        "no-timeout",
        f"a request the target never answers abandoned after about request_timeout_s ({timeout:g} s; at most "
        f"{limit:g} s accepted)",
        f"no request timeout: the first attempt waited {waited:.2f} s on a request held silent for {hang:g} s "
        f"{until}; the call {probe.outcome.describe()})",
        TIMEOUT_FIX,
        probe.attempts,
    )
