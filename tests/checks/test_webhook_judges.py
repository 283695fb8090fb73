"""The webhooks judges over observations recorded from real runs (``tests/checks/recorded``): every known-bad
receiver of ``tests/integrations/webhook_variants.py`` is flagged by exactly its checks, each naming the cause of its
defect, and the reference passes — judged as data, in milliseconds. Each scenario is still observed over real sockets
against real receivers by ``test_webhook_checks.py`` (the reference, a receiver built on the ``standardwebhooks``
library, a slow one, one without dedupe) and by the judges' meta-test (``test_judges.py``)."""

from __future__ import annotations

import pytest

from bluum_readiness.checks import registry
from bluum_readiness.checks.judge import Finding, Unjudged, judge
from bluum_readiness.checks.observation import SCENARIOS, Observation
from tests.checks import recorded
from tests.integrations import webhook_variants

CHECKS = registry.for_item("webhooks")
NV = recorded.NV

#: recorded integration -> the checks that do not pass, each with the cause it names (or NV); every other check
#: whose scenarios were recorded for it passes.
EXPECTED: dict[str, dict[str, str]] = {
    "reference": {},
    # no processed_events() and no resource_status(): status codes only; what needs effects or state is not seen
    "status_only": {"webhooks.duplicates-idempotent": NV, "webhooks.out-of-order": NV},
    # the battery stops at the first slow answer: judged once, by fast-ack
    "slow_ack": {
        "webhooks.fast-ack": "slow-acknowledgement",
        **dict.fromkeys(
            [
                "webhooks.signature-verified",
                "webhooks.timestamp-tolerance",
                "webhooks.replay-rejected",
                "webhooks.duplicates-idempotent",
                "webhooks.out-of-order",
            ],
            NV,
        ),
    },
    "plain_http": {
        "webhooks.https-only": "webhook-not-https",
        "webhooks.tls-certificate": "webhook-not-https",
        "webhooks.end-to-end": "webhook-not-https",
    },
    "no_dedupe": {"webhooks.duplicates-idempotent": "duplicate-effects", "webhooks.end-to-end": "duplicate-effects"},
    "dedupes_on_the_signature": {"webhooks.end-to-end": "duplicate-effects"},
    # accepts anything: the timestamp and the replay cannot be judged apart from the signature
    "no_signature_check": dict.fromkeys(
        ["webhooks.signature-verified", "webhooks.timestamp-tolerance", "webhooks.replay-rejected"],
        "signature-not-verified",
    ),
    "no_timestamp_check": dict.fromkeys(
        ["webhooks.timestamp-tolerance", "webhooks.replay-rejected"], "stale-timestamps-accepted"
    ),
    "replay_window_twice_as_wide": dict.fromkeys(
        ["webhooks.timestamp-tolerance", "webhooks.replay-rejected"], "stale-timestamps-accepted"
    ),
    "racy_dedupe": {"webhooks.duplicates-idempotent": "duplicate-effects"},
    "accepts_replay": {"webhooks.replay-rejected": "replay-accepted"},
    "processes_before_verifying": dict.fromkeys(
        ["webhooks.signature-verified", "webhooks.timestamp-tolerance"], "processed-before-verifying"
    ),
    "regresses_on_out_of_order": {"webhooks.out-of-order": "state-regressed"},
}


def _verdicts(observations: dict[str, Observation]) -> dict[str, str]:
    return recorded.verdicts(observations, CHECKS)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_recorded_receiver_is_judged_by_exactly_its_checks_with_its_cause(name):
    verdicts = _verdicts(recorded.load(name))
    assert verdicts, name
    flagged = {check: verdict for check, verdict in verdicts.items() if verdict != "passed"}
    assert flagged == EXPECTED[name], verdicts


def test_every_recording_is_listed_and_every_known_bad_receiver_recorded():
    assert set(recorded.names()) >= set(EXPECTED)
    known_bad = {**webhook_variants.KNOWN_BAD, **webhook_variants.KNOWN_BAD_SLOW}
    assert set(known_bad) <= set(EXPECTED)
    for name, (_, expected) in known_bad.items():  # the recordings agree with what each variant declares
        judged = set(_verdicts(recorded.load(name)))
        failed = {check for check, verdict in EXPECTED[name].items() if verdict != NV}
        assert failed == expected & judged, name


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_recording_holds_exactly_the_facts_its_scenarios_declare(name):
    """A recording made before a scenario changed its facts is re-recorded (``python -m
    tests.checks.recorded.record``), never judged as it is."""
    for scenario, observation in recorded.load(name).items():
        declared = set(SCENARIOS[scenario].facts)
        assert set(observation.facts) | set(observation.missing) == declared, (name, scenario)
        assert not set(observation.facts) & set(observation.missing), (name, scenario)


def test_a_receiver_that_verifies_nothing_reads_as_one_cause_and_says_what_could_not_be_judged():
    observations = recorded.load("no_signature_check")
    spec = registry.get("webhooks.timestamp-tolerance").judge
    assert spec is not None
    finding = judge(spec, observations)
    assert isinstance(finding, Finding) and finding.cause == "signature-not-verified"
    assert "could not be judged apart" in finding.observed
    # the same deliveries without the signature vectors: the timestamp is what it fails on
    without = {"webhook-deliveries": observations["webhook-deliveries"].without("signature")}
    alone = judge(spec, without)
    assert isinstance(alone, Finding) and alone.cause == "stale-timestamps-accepted"


def test_out_of_order_without_the_state_is_not_verifiable_saying_why():
    """A correct Go or TypeScript receiver without resource_status(): both deliveries acknowledged, and whether the
    older one regressed the order not seen — not verifiable (never passed), with why; with the state, a receiver that
    regresses fails."""
    spec = registry.get("webhooks.out-of-order").judge
    assert spec is not None
    observations = recorded.load("status_only")
    verdict = judge(spec, observations)
    assert isinstance(verdict, Unjudged), verdict
    assert verdict.reason.startswith("both deliveries were acknowledged")
    assert "exposes no resource_status()" in verdict.reason
    bad = recorded.load("regresses_on_out_of_order")
    finding = judge(spec, bad)
    assert isinstance(finding, Finding) and "the order is 'accepted', not 'filled'" in finding.observed


def test_a_slow_receiver_shows_how_many_deliveries_it_was_judged_on():
    spec = registry.get("webhooks.fast-ack").judge
    assert spec is not None
    finding = judge(spec, recorded.load("slow_ack"))
    assert isinstance(finding, Finding)
    assert "over 1 of 5 deliveries (stopped at the first one over 0.3 s)" in finding.observed
    reasons = recorded.load("slow_ack")["webhook-deliveries"].missing.values()
    assert all("judged once, by webhooks.fast-ack" in reason for reason in reasons)
