"""The lifecycle checks discriminate: correct integrations pass them, and each known-bad integration in
``tests/integrations/lifecycle_variants.py`` is flagged by exactly the lifecycle checks named for it — over its
recorded observations in ``test_lifecycle_judges.py`` (every lifecycle check); live here, over sockets, each scenario
against a known-bad integration it catches (``LIVE``: their live verdicts must equal their recordings')."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from bluum_readiness.checks import registry
from bluum_readiness.checks._support import Call, call, interrupts_kept
from bluum_readiness.checks.judge import Finding, judge
from bluum_readiness.checks.observation import Observation, Outcome
from bluum_readiness.config import Thresholds
from bluum_readiness.failures import ConformanceFailure, NotVerifiable
from bluum_readiness.integration import load_factory
from bluum_readiness.proxy import FaultRule, StatusFault
from bluum_readiness.proxy.faults.base import Forward, ProxyRequest, Respond
from bluum_readiness.suite.session import SuiteSession
from bluum_readiness.twin import TwinSettings
from tests.checks import recorded
from tests.checks.test_discrimination import run_all
from tests.fixtures.real_target import twin_as_real_target
from tests.integrations import lifecycle_variants

ITEMS = ("lifecycle",)


@pytest.fixture(scope="module")
def session() -> Iterator[SuiteSession]:
    # The twin settles in milliseconds; a short settle timeout keeps known-bad integrations (which never reach
    # the awaited state) fast. seed=0 fixes the random sequences of lifecycle.money-invariants.
    s = SuiteSession.embedded(thresholds=Thresholds(settle_timeout_s=1.0))  # seed 0: the default
    yield s
    s.close()


def test_every_lifecycle_check_is_exercised_by_a_known_bad_integration():
    flagged = set().union(*(expected for _, expected in lifecycle_variants.KNOWN_BAD.values()))
    checks = {c.id for c in registry.for_item("lifecycle") if c.severity == "required"}
    assert checks <= flagged, f"checks with no known-bad integration proving they catch anything: {checks - flagged}"


@pytest.mark.parametrize(
    ("spec", "not_verifiable"),
    [
        ("bluum_readiness.reference:create_fast", set()),
        # no webhook receiver (no webhook_url / processed_events): that check is not verifiable, never passed
        ("tests.integrations.variants:correct_different", {"lifecycle.webhook-events"}),
        # exceptions without code or status: its refusals are judged by the statuses the proxy recorded
        ("tests.integrations.lifecycle_variants:plain_errors", {"lifecycle.webhook-events"}),
    ],
    ids=["reference", "correct-but-different", "plain-exceptions"],
)
def test_correct_integrations_pass_every_lifecycle_check(session, spec, not_verifiable):
    outcomes = run_all(session, load_factory(spec), ITEMS)
    assert {c for c, o in outcomes.items() if o != "passed"} == not_verifiable, outcomes
    assert all(outcomes[c].startswith("not_verifiable") for c in not_verifiable), outcomes


#: Known-bad integrations judged live, on the checks they fail: one real run over sockets per scenario with a defect
#: to find (the journey and the random sequences: double-submitted buys; the journey's webhooks: events dropped;
#: the error paths: refusals swallowed — and test_error_paths_says_what_a_path_was_refused_for_instead).
LIVE = {
    "double_submits_buys": ("lifecycle.full-journey", "lifecycle.money-invariants"),
    "order_events_only": ("lifecycle.webhook-events",),
    "swallows_errors": ("lifecycle.error-paths",),
}


def _live_verdicts(session: SuiteSession, checks: tuple[str, ...]) -> tuple[dict[str, str], dict[str, str]]:
    """Check id -> "passed", NV or the cause its finding names (as ``recorded.verdicts`` reads a recording), run live
    against the session's integration; and each finding's message as every output shows it."""
    found, texts = {}, {}
    for check in checks:
        try:
            session.run(registry.get(check))
        except ConformanceFailure as exc:
            found[check], texts[check] = exc.cause, str(exc)
        except NotVerifiable:
            found[check] = recorded.NV
        else:
            found[check] = "passed"
    return found, texts


@pytest.mark.parametrize("name", sorted(LIVE))
def test_a_known_bad_integration_judged_live_agrees_with_its_recording(session, name):
    factory, expected = lifecycle_variants.KNOWN_BAD[name]
    session.factory = factory
    live, texts = _live_verdicts(session, LIVE[name])
    judged = recorded.verdicts(recorded.load(name), registry.for_item("lifecycle"))
    assert live == {c: judged[c] for c in LIVE[name]}, (live, judged)
    assert set(LIVE[name]) <= expected, live  # each fails there, with the message every output shows
    for check in LIVE[name]:
        assert f"[lifecycle] {check}" in texts[check]


def test_every_scenario_is_judged_live_against_a_known_bad_integration_it_catches():
    checks = {c.id for c in registry.for_item("lifecycle")}
    assert {c for live in LIVE.values() for c in live} == checks


WITHDRAWALS = ["withdrawal above the balance", "invalid amount '-5' (withdrawal)"]


@pytest.mark.parametrize(
    ("name", "refused_with", "wrong"),
    [
        # read from its exception: both withdrawals were refused for the missing key (BLUM-400-002)
        ("no_key_on_withdrawals", "refused with 400 BLUM-400-002 instead of 422", WITHDRAWALS),
        # read from the proxy's record (status only): a 400 is what an invalid amount provokes, a 422 is not
        ("plain_errors_no_key_on_withdrawals", "refused with 400 instead of 422", WITHDRAWALS[:1]),
    ],
)
def test_error_paths_says_what_a_path_was_refused_for_instead(session, name, refused_with, wrong):
    session.factory = getattr(lifecycle_variants, name)
    with pytest.raises(AssertionError) as caught:
        session.run(registry.get("lifecycle.error-paths"))
    observed = caught.value.observed  # type: ignore[attr-defined]
    assert f"withdrawal above the balance: {refused_with}" in observed, observed
    # only the withdrawals lack a key: every other path was refused for its own reason
    paths = caught.value.evidence["paths"]  # type: ignore[attr-defined]
    assert [p["path"] for p in paths if not p["surfaced"]] == wrong, observed


@pytest.mark.parametrize(
    ("outcome", "observed", "cause"),
    [
        (Call(finished=False), "the call had not returned when the suite gave up waiting", "call-never-returns"),
        (
            Call(error=ValueError("no such investor")),
            "the call raised ValueError: no such investor",
            "operation-refused",
        ),
    ],
)
def test_a_journey_step_that_fails_says_what_the_call_did_once(outcome, observed, cause):
    failed = {"step": "withdraw", "kind": "ran", "outcome": Outcome.of(outcome)}
    journey = Observation("journey", {"journey": {"steps": [failed], "skipped": [], "complete": False}})
    finding = judge(registry.get("lifecycle.full-journey").judge, {"journey": journey})  # type: ignore[arg-type]
    assert isinstance(finding, Finding) and finding.observed == observed and finding.cause == cause


@pytest.fixture
def ctrl_c_raises() -> Iterator[None]:
    """Ctrl-C raises KeyboardInterrupt in the main thread, as in a terminal — also where the tests were started with
    SIGINT ignored (a background job, ``pytest ... &`` from a script), which Python then keeps ignored."""
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)


@pytest.mark.parametrize("nth", [0, 3])
@pytest.mark.usefixtures("ctrl_c_raises")
def test_ctrl_c_during_the_random_sequences_stops_the_check(session, nth):
    """A real SIGINT while an operation of a random sequence runs (the first, or one in a later example): the check
    raises KeyboardInterrupt, so the run stops and records the interruption."""
    reference = load_factory("bluum_readiness.reference:create_fast")
    deposits = iter(range(1_000))

    def interrupted_on_a_deposit(env):
        integration = reference(env)
        deposit = integration.deposit

        def deposit_then_ctrl_c(*args, **kwargs):
            if next(deposits) == nth:
                signal.raise_signal(signal.SIGINT)  # handled in the main thread: KeyboardInterrupt there
            return deposit(*args, **kwargs)

        integration.deposit = deposit_then_ctrl_c
        return integration

    session.factory = interrupted_on_a_deposit
    with pytest.raises(KeyboardInterrupt):
        session.run(registry.get("lifecycle.money-invariants"))


@pytest.mark.parametrize("when", ["as it starts", "while it runs"])
@pytest.mark.usefixtures("ctrl_c_raises")
def test_an_interrupted_call_lets_the_operation_in_flight_end_before_it_raises(when):
    """Ctrl-C while ``call`` waits on an operation (even while the worker thread is still starting): the operation
    ends first (within STOP_GRACE_S), so the harness never closes the integration's client under a request in
    flight (seen: "Bad file descriptor", then a socket leaked by the retry)."""
    ended = threading.Event()

    def operation():
        if when == "while it runs":
            time.sleep(0.05)
        signal.raise_signal(signal.SIGINT)  # handled in the main thread, where call() waits
        time.sleep(0.2)  # the request in flight
        ended.set()

    with pytest.raises(KeyboardInterrupt):
        call(operation)
    assert ended.is_set()


@pytest.mark.usefixtures("ctrl_c_raises")
def test_an_interrupt_swallowed_inside_the_block_is_raised_again_when_it_ends():
    """What Hypothesis may do when Ctrl-C lands between its examples (seen: the run went on to READY, exit 0): a
    KeyboardInterrupt caught and dropped inside ``interrupts_kept`` is raised again when the block ends; the
    handlers in force are back afterwards."""
    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt), interrupts_kept():
        try:
            signal.raise_signal(signal.SIGINT)
            time.sleep(1)  # the handler runs here, in the main thread
        except KeyboardInterrupt:
            pass  # dropped, as a test framework might
    assert signal.getsignal(signal.SIGINT) is before
    with pytest.raises(KeyboardInterrupt), interrupts_kept():  # dropped, then another error: the interrupt wins
        try:
            signal.raise_signal(signal.SIGINT)
            time.sleep(1)
        except KeyboardInterrupt:
            pass
        raise ValueError("a failure after the interrupt")
    with interrupts_kept():  # no signal: nothing raised
        pass


def test_a_missing_withdrawal_key_reads_as_one_cause_across_items(session):
    """No Idempotency-Key on withdrawals failed three checks of two items with three unrelated messages: each now
    names the cause no-idempotency-key (the journey's refused withdrawal, the error path refused for the key instead
    of the balance, and key-on-every-transfer)."""
    from bluum_readiness.failures import ConformanceFailure
    from tests.integrations import variants

    session.factory = variants._factory(variants.GOOD.but(key_mode="deposits_only"))
    causes = {}
    for check in ("lifecycle.full-journey", "lifecycle.error-paths", "idempotency.key-on-every-transfer"):
        with pytest.raises(ConformanceFailure) as caught:
            session.run(registry.get(check))
        causes[check] = caught.value.cause
    assert set(causes.values()) == {"no-idempotency-key"}, causes


def test_a_target_that_fails_on_its_own_is_not_blamed_on_the_integration() -> None:
    """Bluum's sandbox failing every order placement with 500 (an outage: the lifecycle injects no fault) — modelled
    by a proxy in front of the twin, given to the suite as a real target. The reference retries and surfaces the 500
    as it should: the journey and the error paths are not verifiable, saying the target failed, never "A valid
    operation fails" or a refusal "for another reason" (over real sockets)."""
    outage = FaultRule("orders-down", StatusFault(500), method="POST", path="/v1/investors/*/orders")
    with twin_as_real_target(outage) as remote:
        for check in ("lifecycle.full-journey", "lifecycle.error-paths"):
            with pytest.raises(NotVerifiable, match="the target itself answered 500") as raised:
                remote.run(registry.get(check))
            assert "not a defect of the integration" in str(raised.value), check


def test_a_target_failing_the_suites_own_setup_calls_makes_checks_not_verifiable_not_broken() -> None:
    """Bluum's sandbox failing every investor read with 500 — the suite's own setup (waiting for an investor to be
    active) included: neither the integration's fault nor the suite's, so not verifiable, saying so, never "broken,
    harness error" (which fails the item; over real sockets)."""
    outage = FaultRule("investors-down", StatusFault(500), method="GET", path="/v1/investors/*")
    with twin_as_real_target(outage) as remote:
        with pytest.raises(NotVerifiable, match="the target itself answered the suite's setup call GET"):
            remote.run(registry.get("error-handling.5xx-retried"))


@dataclass(frozen=True)
class NoWallets:
    """A sandbox that lists no wallet for any investor (its own state, as a fault of the outage proxy)."""

    async def apply(self, request: ProxyRequest, forward: Forward) -> Respond:
        return Respond(200, (("content-type", "application/json"),), b'{"data": []}')


def test_a_target_showing_an_investor_without_a_wallet_is_not_blamed_on_anyone() -> None:
    """The journey reads the investor's wallet with the suite's own client; a real target that shows none is in a
    state of its own: not verifiable, saying what it showed — never "broken, harness error" (over real sockets)."""
    outage = FaultRule("no-wallets", NoWallets(), method="GET", path="/v1/investors/*/wallets")
    with twin_as_real_target(outage) as remote:
        with pytest.raises(NotVerifiable, match=r"the target shows investor inv_\w+ with no wallet") as raised:
            remote.run(registry.get("lifecycle.full-journey"))
    assert "not a defect of the integration" in raised.value.reason


def test_a_target_slower_than_the_settle_timeout_is_not_verifiable_naming_the_setting() -> None:
    """A sandbox whose KYC takes longer than [thresholds] settle_timeout_s: the suite's own wait for an active
    investor runs out. Against a real target that is a slow target, nobody's defect: not verifiable, saying which
    setting to raise — never "broken" (over real sockets)."""
    slow = TwinSettings.fast(kyc_delay_s=30.0)
    with twin_as_real_target(twin=slow, thresholds=Thresholds(settle_timeout_s=0.3)) as remote:
        with pytest.raises(NotVerifiable, match="within 0.3 s: a target slower than .thresholds. settle_timeout_s"):
            remote.run(registry.get("error-handling.5xx-retried"))


@pytest.mark.parametrize(
    ("slow", "shown"),
    [
        ({"kyc_delay_s": 30.0}, "step 'KYC approved': after 0.5 s the target itself showed 'onboarding'"),
        ({"ach_processing_delay_s": 30.0}, "step 'deposit completes': after 0.5 s the target still showed dep_"),
    ],
    ids=["kyc", "deposit"],
)
def test_a_journey_step_the_target_is_slower_to_reach_than_the_wait_is_not_blamed_on_the_integration(slow, shown):
    """A sandbox slower than [thresholds] settle_timeout_s (its KYC, its ACH settlement): the reference reports what
    the target shows, as it should. The journey is not verifiable, naming the setting — never "stale-reads" or a
    transfer "not as documented" (over real sockets)."""
    with twin_as_real_target(twin=TwinSettings.fast(**slow), thresholds=Thresholds(settle_timeout_s=0.5)) as remote:
        with pytest.raises(NotVerifiable, match="slower than .thresholds. settle_timeout_s") as raised:
            remote.run(registry.get("lifecycle.full-journey"))
    assert shown in raised.value.reason, raised.value.reason
