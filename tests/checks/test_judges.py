"""Judges are pure functions of observations: they cannot pass on a fact they did not get, they read the same from
a recorded observation as from a live one, and one defect reads as one cause.

Observations are made once per module by the reference in virtual time (``SuiteSession.embedded(virtual_time=True)``),
then judged as data; the known-bad ones are built from their facts (a never-retrying integration is one attempt
per probe)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from bluum_readiness.catalog import causes
from bluum_readiness.checks import registry
from bluum_readiness.checks.error_handling import TIMEOUT_FIX
from bluum_readiness.checks.idempotency import RETRY_FAULTS
from bluum_readiness.checks.judge import Finding, Fix, Judge, Passed, Unjudged, judge
from bluum_readiness.checks.observation import SCENARIOS, TARGET_RATE_LIMITED, Observation, Outcome, Probe
from bluum_readiness.proxy.recorder import Exchange
from bluum_readiness.suite.session import SuiteSession
from tests.checks.test_discrimination import seeded_reference
from tests.credentials.gitrepo import Repo

JUDGED = [c for c in registry if c.judge is not None]


def _judge(check_id: str) -> Judge:
    spec = registry.get(check_id).judge
    assert spec is not None, check_id
    return spec


@pytest.fixture(scope="module")
def observed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Observation]]:
    """Every scenario a judge reads, observed once of the (seeded) reference — from an empty project folder (a git
    repository with one commit), as ``bluum-readiness run`` in a new project and tests/reference/test_readiness.py:
    the secret scan then reads the integration's own code, not this repository and its whole git history (~3.5 s
    with a cold scan cache, as in a fresh CI machine)."""
    project = tmp_path_factory.mktemp("new-project")
    Repo(project).commit("a new project", {"README.md": "# app\n"})
    session = SuiteSession.embedded("bluum_readiness.reference:create_fast", virtual_time=True)
    session.factory = seeded_reference
    names = {name for check in JUDGED for name in check.judge.scenarios}  # type: ignore[union-attr]
    made: dict[str, Observation] = {}
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.chdir(project)
            for name in sorted(names):
                with session.harness() as h:  # one harness per scenario, as in a run (a webhook registered in one
                    made[name] = h.observe(SCENARIOS[name])  # is not another's)
        yield made
    finally:
        session.close()


@pytest.mark.parametrize(
    "item",
    [
        "lifecycle",
        "idempotency",
        "error-handling",
        "webhooks",
        "credentials",
        "smoke-test",
        "credential-rotation",
        "observability",
    ],
)
def test_the_item_is_judged_from_observations(item):
    assert registry.for_item(item)
    assert {c.id for c in registry.for_item(item)} <= {c.id for c in JUDGED}


def test_no_check_module_leaves_its_layout_to_a_formatter_exception():
    """Check modules (the item packages' too) read as ruff formats them: no ``# fmt: skip`` (a long call is a sign a
    helper is missing)."""
    from pathlib import Path

    import bluum_readiness.checks

    folder = Path(bluum_readiness.checks.__file__).parent
    marked = [f"{p.relative_to(folder)}:{n}" for p in sorted(folder.rglob("*.py"))
              for n, line in enumerate(p.read_text().splitlines(), 1) if "fmt: " + "skip" in line]  # fmt: skip
    assert not marked, marked


@pytest.fixture(scope="module")
def recorded(observed: dict[str, Observation]) -> dict[str, Observation]:
    """The reference's observations as a recording holds them: through JSON and back (once: the round trip is the
    same for every judge)."""
    return {name: Observation.from_dict(json.loads(json.dumps(o.to_dict()))) for name, o in observed.items()}


@pytest.mark.parametrize("check", JUDGED, ids=lambda c: c.id)
def test_the_reference_passes_every_judge_live_and_recorded(observed, recorded, check):
    spec = check.judge
    live = judge(spec, observed)
    assert live is None or isinstance(live, Passed), live
    assert judge(spec, recorded) == live


@pytest.mark.parametrize("check", JUDGED, ids=lambda c: c.id)
def test_a_judge_without_a_fact_it_needs_is_not_verifiable_with_the_scenarios_reason(observed, check):
    spec = check.judge
    for need in spec.needs:
        name, _, fact = need.partition(".")
        without = {**observed, name: observed[name].without(fact, f"why {need} is missing")}
        assert judge(spec, without) == Unjudged(f"why {need} is missing"), need
        assert isinstance(judge(spec, {k: v for k, v in observed.items() if k != name}), Unjudged)


def _attempt(seq: int, status: int | None, started: float) -> Exchange:
    return Exchange(seq, "GET", "/v1/investors/inv_1", "", None, "key", (), "", 0, status, f"req_{seq}", (),
                    started, started + 0.001, 1.0, status, 1.0, True, None, None, "forwarded")  # fmt: skip


def _once(status: int | None, outcome: Outcome | None = None, operation: str = "kyc_status()") -> Probe:
    failed = Outcome("raised", error={"exception": "ApiError", "message": f"{status} from Bluum"})
    return Probe(operation, outcome or failed, (_attempt(1, status, 0.0),), 0.01)


def _obs(scenario: str, **facts: object) -> dict[str, Observation]:
    return {scenario: Observation(scenario, dict(facts))}


def test_no_retries_at_all_is_one_cause_across_the_checks_it_fails(observed):
    """A client with no retries: one attempt on every probe. Six checks fail, each naming the same cause; the
    one that judges Retry-After says it could not tell whether Retry-After is honoured."""
    never = {
        "backoff-429": Observation("backoff-429", {"trials": [_once(429)]}),
        "retry-after": Observation("retry-after", {"probe": _once(429)}),
        "server-errors": Observation(
            "server-errors", {f"status-{s}": _once(s, operation="deposit()") for s in (500, 502, 503, 504)}
        ),
        "timeout-once": Observation("timeout-once", {"probe": _once(None, operation="deposit()")}),
        "retried-deposits": Observation(
            "retried-deposits", {**observed["retried-deposits"].facts, DROP: _once(None, operation="deposit()")}
        ),
    }
    failing = (
        "error-handling.5xx-retried",
        "error-handling.429-backoff-grows",
        "error-handling.429-jitter",
        "error-handling.429-retry-after",
        "error-handling.timeout-retried",
        "error-handling.dropped-connection-retried",
    )
    verdicts = {c: judge(_judge(c), {**observed, **never}) for c in failing}
    assert {c: getattr(v, "cause", v) for c, v in verdicts.items()} == dict.fromkeys(failing, "no-retries")
    assert "could not be judged" in verdicts["error-handling.429-retry-after"].observed  # type: ignore[union-attr]
    assert "no-retries" in causes()


DROP = RETRY_FAULTS[2]  # the retried deposit whose connection dropped after the target committed it


def _deposit_attempt(seq: int, status: int | None, key: str | None) -> Exchange:
    path = "/v1/investors/inv_1/deposits"
    changes = {"method": "POST", "path": path, "idempotency_key": key}
    return Exchange(**{**_attempt(seq, status, seq * 0.1).__dict__, **changes})


@pytest.mark.parametrize(
    ("attempts", "returned", "verdict"),
    [
        ((None,), False, "no-retries"),  # gave up on the drop: the caller is told "failed" for money that moved
        ((None, 201), True, "passed"),
        ((None, None), False, "gives-up-too-soon"),  # its retry got no answer either, and it stopped there
        ((None, 503, 503), False, "not verifiable"),  # the target itself answered the retries 503: its outage
    ],
)
def test_a_dropped_connection_must_be_retried_until_it_succeeds(observed, attempts, returned, verdict):
    outcome = Outcome("returned", result="'dep_1'") if returned else None
    dropped = Outcome("raised", error={"exception": "RemoteProtocolError", "message": "Server disconnected"})
    sent = tuple(_deposit_attempt(n, status, "k" * 32) for n, status in enumerate(attempts, 1))
    probe = Probe("deposit()", outcome or dropped, sent, 0.5)
    retried = Observation("retried-deposits", {**observed["retried-deposits"].facts, DROP: probe})
    found = judge(_judge("error-handling.dropped-connection-retried"), {**observed, "retried-deposits": retried})
    if isinstance(found, Unjudged):
        assert verdict == "not verifiable" and "the target itself answered 503" in found.reason, found
    else:
        assert getattr(found, "cause", "passed" if found is None or isinstance(found, Passed) else found) == verdict


def test_a_retried_drop_on_a_reused_connection_is_not_credited_to_the_integration(observed):
    """Go's http.Transport resends a keyed POST whose reused connection dropped before any answer: that second
    attempt may be the runtime's, not the integration's code, so the judge does not pass on it."""
    first = Exchange(**{**_deposit_attempt(1, None, "k" * 32).__dict__, "reused_connection": True})
    probe = Probe("deposit()", Outcome("returned", result="'dep_1'"), (first, _deposit_attempt(2, 201, "k" * 32)), 0.3)
    retried = Observation("retried-deposits", {**observed["retried-deposits"].facts, DROP: probe})
    found = judge(_judge("error-handling.dropped-connection-retried"), {**observed, "retried-deposits": retried})
    assert isinstance(found, Unjudged) and "resends such a request on its own" in found.reason, found


def test_a_retry_refused_for_its_missing_key_names_the_key_not_the_retries():
    """A deposit sent without an Idempotency-Key, retried after a 503, is refused (400 BLUM-400-002): it did retry,
    so the cause is the missing key, never "gives up before a transient fault clears"."""
    refused = Outcome("raised", error={"exception": "ApiError", "message": "400 BLUM-400-002"})
    probe = Probe("deposit()", refused, (_deposit_attempt(1, 503, None), _deposit_attempt(2, 400, None)), 0.2)
    statuses = {f"status-{s}": probe for s in (500, 502, 503, 504)}
    finding = judge(_judge("error-handling.5xx-retried"), _obs("server-errors", **statuses))
    assert isinstance(finding, Finding) and finding.cause == "no-idempotency-key", finding
    assert "no attempt carried an Idempotency-Key" in finding.observed


def test_an_unfinished_call_reads_once():
    """'the call had not returned…', never 'the call the call had not returned…'."""
    stuck = Probe("kyc_status()", Outcome("unfinished"), tuple(_attempt(i, 401, i) for i in range(1, 9)))
    finding = judge(_judge("error-handling.401-bounded"), _obs("persistent-401", probe=stuck))
    assert isinstance(finding, Finding) and finding.cause == "unbounded-retries"
    assert "the call had not returned when the suite gave up waiting" in finding.observed
    assert "the call the call" not in finding.observed


def test_retry_after_ignored_is_told_apart_from_never_retrying():
    quick = Probe(
        "kyc_status()", Outcome("returned", result="'active'"), (_attempt(1, 429, 0.0), _attempt(2, 200, 0.1))
    )
    finding = judge(_judge("error-handling.429-retry-after"), _obs("retry-after", probe=quick))
    assert isinstance(finding, Finding) and finding.cause == "retry-after-ignored"


@pytest.mark.parametrize(
    ("language", "hint"),
    [("go", "http.Client{Timeout: timeout}"), ("typescript", "AbortSignal.timeout"), ("python", "httpx.Client"),
     (None, "")],
)  # fmt: skip
def test_fix_texts_are_language_neutral_with_a_hint_in_the_integrations_language(language, hint):
    slow = Probe("kyc_status()", Outcome("returned", result="'active'"), (_attempt(1, None, 0.0),), 9.0)
    slow = Probe(slow.operation, slow.outcome, (Exchange(**{**slow.attempts[0].__dict__, "duration_ms": 9000.0}),), 9.0)
    hung = Observation("hung-request", {"probe": slow, "bounds": {"request_timeout_s": 1.0, "limit_s": 2.0,
                                                                  "hang_s": 3.0}})  # fmt: skip
    finding = judge(_judge("error-handling.request-timeout"), {"hung-request": hung})
    assert isinstance(finding, Finding) and finding.cause == "no-timeout"
    fix = finding.failure(language).fix
    assert fix.startswith("give every request a timeout")
    assert hint in fix
    if language != "python":
        assert "httpx" not in fix
    if language is None:
        assert fix == TIMEOUT_FIX.text
    assert Fix("no hint").render("go") == "no hint"


def test_an_observation_ending_a_sentence_reads_with_one_full_stop_before_the_fix():
    """What an integration raised often ends with its own full stop ("…without sending a response."): the message
    says "…. Fix:" with one full stop, never two."""
    from bluum_readiness.failures import ConformanceFailure

    said = ConformanceFailure(expected="a retry", observed="it raised: Server disconnected.", fix="retry it")
    assert str(said) == "expected a retry; observed it raised: Server disconnected. Fix: retry it"
    plain = ConformanceFailure(expected="a retry", observed="1 attempt", fix="retry it")
    assert str(plain) == "expected a retry; observed 1 attempt. Fix: retry it"


def test_a_target_failing_on_its_own_after_the_fault_is_not_held_against_the_integration(observed):
    """The injected 503 was retried, and the target itself answered the retries with 500 (an outage): not verifiable,
    saying so — unless another status shows a real finding, which it never hides."""
    injected = Exchange(**{**_attempt(1, 503, 0.0).__dict__, "fault": "retry-503"})
    outage = Probe(
        "deposit()", Outcome("raised", error={"exception": "ServerError", "message": "500"}),
        (injected, _attempt(2, 500, 0.1), _attempt(3, 500, 0.3)), 0.4,
    )  # fmt: skip
    healthy = {f"status-{s}": observed["server-errors"].facts[f"status-{s}"] for s in (500, 502, 504)}
    found = judge(_judge("error-handling.5xx-retried"), _obs("server-errors", **healthy, **{"status-503": outage}))
    assert isinstance(found, Unjudged) and "the target itself answered 500 (request req_3)" in found.reason, found
    never = _once(502, operation="deposit()")
    mixed = {**healthy, "status-502": never, "status-503": outage}
    found = judge(_judge("error-handling.5xx-retried"), _obs("server-errors", **mixed))
    assert isinstance(found, Finding) and found.cause == "no-retries", found


def test_a_finding_on_requests_a_real_target_refused_429_is_not_verifiable(observed):
    """A never-retrying client's 5xx probe, observed against a real target that also answered some of the
    integration's requests 429 itself (``TARGET_RATE_LIMITED``, recorded only against a real target, whose traffic
    the proxy kept under the limit). Refused among the exchanges the finding is about: it could come from the
    refusal, so not verifiable, naming it and what the judge saw. Refused elsewhere in the scenario: the finding
    stands, as it does without refusals."""
    never = {f"status-{s}": _once(s, operation="deposit()") for s in (500, 502, 503, 504)}
    plain = judge(_judge("error-handling.5xx-retried"), _obs("server-errors", **never))
    assert isinstance(plain, Finding) and plain.cause == "no-retries", plain
    about = {x.seq for x in plain.exchanges}

    def refused_at(seq: int) -> dict[str, Observation]:
        shared = Observation("server-errors", dict(never))
        call = {"call": "POST /v1/investors/inv_1/deposits", "request_id": "req_9", "seq": seq}
        shared.evidence[TARGET_RATE_LIMITED] = [call]
        return {"server-errors": shared}

    found = judge(_judge("error-handling.5xx-retried"), refused_at(min(about)))
    assert isinstance(found, Unjudged), found
    assert "answered 1 of the integration's requests 429 (first: POST /v1/investors/inv_1/deposits, request req_9)" in (
        found.reason
    )
    assert plain.observed in found.reason, "what the judge saw is kept"
    elsewhere = judge(_judge("error-handling.5xx-retried"), refused_at(max(about) + 100))
    assert isinstance(elsewhere, Finding) and elsewhere.cause == "no-retries", elsewhere


@pytest.mark.parametrize("check_id", ["error-handling.429-backoff-grows", "error-handling.429-jitter"])
def test_a_backoff_trial_the_target_failed_after_the_faults_is_not_held_against_the_integration(observed, check_id):
    """The three injected 429s were waited out and retried, then the target itself answered 500 to every later
    attempt (an outage) and the call failed: not verifiable, saying so. Giving up inside the faults still fails."""
    injected = [Exchange(**{**_attempt(n, 429, n * 0.1).__dict__, "fault": "backoff-429-0"}) for n in (1, 2, 3)]
    failed = Outcome("raised", error={"exception": "ServerError", "message": "500"})
    outage = Probe("kyc_status()", failed, (*injected, _attempt(4, 500, 0.7), _attempt(5, 500, 1.5)), 1.6)
    found = judge(_judge(check_id), {**observed, **_obs("backoff-429", trials=[outage])})
    assert isinstance(found, Unjudged) and "the target itself answered 500 (request req_5)" in found.reason, found
    gave_up = Probe("kyc_status()", Outcome("raised", error={"exception": "RateLimited", "message": "429"}),
                    tuple(injected[:2]), 0.3)  # fmt: skip
    found = judge(_judge(check_id), {**observed, **_obs("backoff-429", trials=[gave_up])})
    assert isinstance(found, Finding) and found.cause == "gives-up-too-soon", found


@pytest.mark.parametrize(
    ("age_days", "verdict"), [(89.96, "passed"), (90.0, "key-not-rotated"), (120.4, "key-not-rotated")]
)
def test_a_key_is_judged_on_its_age_unrounded(age_days, verdict):
    """A pair declared created 89 days ago, observed late in the day (89.96 days old), is younger than 90. The
    scenario keeps the age unrounded (rounded to 90.0 it failed after 22:48 UTC and passed before)."""
    key = {"key": None, "created": "2026-09-09T00:00:00+00:00", "age_days": age_days,
           "rotation_period_days": 90, "source": "declared: [credentials] key_created"}  # fmt: skip
    found = judge(_judge("credentials.key-age"), _obs("key-age", key=key))
    assert getattr(found, "cause", "passed" if found is None or isinstance(found, Passed) else found) == verdict
    if verdict != "passed":
        observed = found.observed  # type: ignore[union-attr]
        assert observed.startswith("your key pair was created 2026-09-09") and "; declared: [credentials]" in observed
