"""The lifecycle judges over observations recorded from real runs (``tests/checks/recorded``): every known-bad
integration of ``tests/integrations/lifecycle_variants.py`` is flagged by exactly its checks, each naming the cause of
its defect, and correct ones pass — judged as data, in milliseconds; and the judges over small observations made
here. Each scenario is still observed over real sockets by ``test_lifecycle_checks.py`` (correct integrations on every
check; known-bad ones on the checks they fail — a double-submitting one, one whose receiver drops events, one that
swallows refusals —, their live verdicts equal to their recordings') and by the judges' meta-test
(``test_judges.py``)."""

from __future__ import annotations

import pytest

from bluum_readiness.checks import registry
from bluum_readiness.checks.judge import Finding, Judge, Passed, Unjudged, judge
from bluum_readiness.checks.observation import Observation
from tests.checks import recorded
from tests.integrations import lifecycle_variants

CHECKS = registry.for_item("lifecycle")
NV = recorded.NV

#: recorded integration -> the checks that do not pass, each with the cause it names (or NV); every other check whose
#: scenarios were recorded for it passes. The known-bad ones are recorded on every lifecycle scenario: those without a
#: webhook receiver leave webhook-events not verifiable.
EXPECTED: dict[str, dict[str, str]] = {
    "reference": {},
    "correct_different": {},
    "swallows_errors": {"lifecycle.error-paths": "failure-swallowed", "lifecycle.webhook-events": NV},
    # its withdrawal is refused for the missing key: the cause idempotency.key-on-every-transfer names too
    "no_key_on_withdrawals": {
        "lifecycle.full-journey": "no-idempotency-key",
        "lifecycle.error-paths": "no-idempotency-key",
        "lifecycle.webhook-events": NV,
    },
    # tests/integrations/variants.py's: every operation after the first is refused for reusing its key (BLUM-409-002)
    "one_key_for_everything": {
        "lifecycle.full-journey": "key-shared-across-operations",
        "lifecycle.error-paths": "key-shared-across-operations",
        "lifecycle.webhook-events": NV,
    },
    "deposit_returns_investor_id": {"lifecycle.full-journey": "wrong-id-returned", "lifecycle.webhook-events": NV},
    "ignores_manual_banks": {"lifecycle.full-journey": "request-not-as-documented", "lifecycle.webhook-events": NV},
    "cancel_is_a_noop": {"lifecycle.full-journey": "operation-not-performed", "lifecycle.webhook-events": NV},
    "double_submits_buys": {
        "lifecycle.full-journey": "money-moved-twice",
        "lifecycle.money-invariants": "money-moved-twice",
        "lifecycle.webhook-events": NV,
    },
    "double_submits_sells": {"lifecycle.money-invariants": "money-moved-twice", "lifecycle.webhook-events": NV},
    "order_events_only": {"lifecycle.webhook-events": "event-not-applied"},
}


def verdicts(name: str) -> dict[str, str]:
    """The verdicts of the lifecycle checks over the recording of ``name`` (those whose scenarios it holds)."""
    return recorded.verdicts(recorded.load(name), CHECKS)


def _spec(check_id: str) -> Judge:
    spec = registry.get(check_id).judge
    assert spec is not None
    return spec


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_recorded_integration_is_judged_by_exactly_its_checks_with_its_cause(name):
    found = verdicts(name)
    assert found, name
    assert {c: v for c, v in found.items() if v != "passed"} == EXPECTED[name], found


def test_the_recordings_agree_with_what_each_known_bad_integration_declares():
    """Every known-bad integration is recorded on every lifecycle check, failing exactly those it declares."""
    for name, (_, expected) in lifecycle_variants.KNOWN_BAD.items():
        found = verdicts(name)
        assert set(found) == {c.id for c in CHECKS}, f"{name}.json lacks a lifecycle scenario: re-record it"
        assert {c for c, v in EXPECTED[name].items() if v != NV} == expected, name


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_recording_holds_exactly_the_facts_its_scenarios_declare(name):
    from bluum_readiness.checks.observation import SCENARIOS

    for scenario, observation in recorded.load(name).items():
        assert set(observation.facts) | set(observation.missing) == set(SCENARIOS[scenario].facts), (name, scenario)


def test_a_failure_names_the_step_and_carries_the_journey_so_far():
    finding = judge(_spec("lifecycle.full-journey"), recorded.load("deposit_returns_investor_id"))
    assert isinstance(finding, Finding)
    assert "step 'deposit'" in finding.expected and "dep_" in finding.expected
    assert finding.observed.startswith("it returned 'inv_")
    evidence = finding.evidence
    assert evidence["failed_step"] == "deposit"
    assert [s["step"] for s in evidence["journey"]][:2] == ["create investor", "upload KYC document"]
    assert evidence["journey"][0]["id"].startswith("inv_")
    assert evidence["journey"][-1] == {"step": "deposit", "id": evidence["journey"][0]["id"], "outcome": "failed"}


def test_the_reference_journey_shows_its_trail():
    passed = judge(_spec("lifecycle.full-journey"), recorded.load("reference"))
    assert isinstance(passed, Passed)
    steps = [s["step"] for s in passed.evidence["journey"]]
    assert steps[0] == "create investor" and steps[-1] == "balances add up"


def _journey(*steps: dict, complete: bool = False) -> dict[str, Observation]:
    return {"journey": Observation("journey", {"journey": {"steps": list(steps), "skipped": [], "complete": complete}})}


def test_a_journey_that_ended_early_without_a_defect_is_not_verifiable():
    created = {"step": "create investor", "kind": "created", "operation": "create_investor", "id": "inv_1"}
    assert judge(_spec("lifecycle.full-journey"), _journey(created)) == Unjudged(
        "the journey ended before its last step"
    )
    assert judge(_spec("lifecycle.full-journey"), _journey(created, complete=True)) is not None


def _money(*runs: dict) -> dict[str, Observation]:
    return {"money": Observation("money", {"sequences": list(runs)})}


STATE = {
    "ledger": [{"operation_id": "dep_1", "kind": "deposit", "amount": "200.00"}],
    "wallet": {"balance": "200.00", "available_balance": "200.00"},
    "completed": [{"kind": "deposits", "amount": "200.00"}],
    "orders": [],
    "positions": {},
}


def test_money_invariants_judge_every_recorded_state_not_only_the_last():
    """A deposit whose money the ledger holds twice after the first step is found there, although the later step's
    state adds up again (the random sequences stop at the first broken invariant; a recording that did not must still
    fail)."""
    twice = {**STATE, "ledger": STATE["ledger"] * 2, "wallet": {"balance": "400.00", "available_balance": "400.00"}}
    steps = [
        {
            "step": "deposit 200.00",
            "finished": True,
            "outcome": "returned 'dep_1'",
            "returned": "dep_1",
            "state": twice,
        },
        {"step": "deposit 25.00", "finished": True, "outcome": "returned None", "returned": None, "state": STATE},
    ]
    finding = judge(_spec("lifecycle.money-invariants"), _money({"investor_id": "inv_1", "steps": steps}))
    assert isinstance(finding, Finding) and finding.cause == "money-moved-twice"
    assert finding.observed.startswith("after step 1 (deposit 200.00): ")
    assert "operations moved money more than once: ['dep_1']" in finding.observed
    assert "money created or lost" in finding.observed


def test_money_invariants_without_any_operation_that_succeeded_are_not_verifiable():
    empty = {**STATE, "ledger": [], "completed": [], "wallet": {"balance": "0", "available_balance": "0"}}
    refused = {"step": "deposit 200.00", "finished": True, "outcome": "raised", "returned": None, "state": empty}
    verdict = judge(_spec("lifecycle.money-invariants"), _money({"investor_id": "inv_1", "steps": [refused]}))
    assert isinstance(verdict, Unjudged) and "held vacuously" in verdict.reason


def test_money_invariants_name_a_call_that_never_returned():
    stuck = {"step": "market buy 2 INTC", "finished": False, "outcome": "had not returned", "returned": None}
    finding = judge(_spec("lifecycle.money-invariants"), _money({"investor_id": "inv_1", "steps": [stuck]}))
    assert isinstance(finding, Finding) and finding.cause == "call-never-returns"


def test_a_double_submitted_sell_is_found_as_an_order_the_integration_never_reported():
    finding = judge(_spec("lifecycle.money-invariants"), recorded.load("double_submits_sells"))
    assert isinstance(finding, Finding)
    assert "orders at the target that the integration never reported" in finding.observed


def test_webhook_events_name_the_cause_of_what_they_saw():
    events = [{"id": "evt_1", "event": "account.created"}, {"id": "evt_2", "event": "order.filled"}]
    delivered = [{"event_id": e["id"], "event_type": e["event"], "status": "delivered"} for e in events]

    def verdict(applied: list[str], deliveries: list[dict] = delivered, seen: list[dict] = events) -> object:
        facts = {"events": seen, "deliveries": deliveries, "applied": applied}
        return judge(_spec("lifecycle.webhook-events"), {"journey-webhooks": Observation("journey-webhooks", facts)})

    assert verdict(["evt_1", "evt_2"]) is None
    assert getattr(verdict(["evt_1", "evt_2", "evt_2"]), "cause", None) == "duplicate-effects"
    assert getattr(verdict(["evt_1"]), "cause", None) == "event-not-applied"
    refused = [{**delivered[0], "status": "failed"}, delivered[1]]
    assert getattr(verdict(["evt_2"], refused), "cause", None) == "valid-delivery-refused"
    assert isinstance(verdict([], [], []), Unjudged)


def test_a_cancel_never_sent_reads_as_such_and_its_trail_claims_no_cancelled_order():
    finding = judge(_spec("lifecycle.full-journey"), recorded.load("cancel_is_a_noop"))
    assert isinstance(finding, Finding) and finding.cause == "operation-not-performed"
    assert finding.expected.startswith("step 'order cancelled': order ord_") and "cancelled" in finding.expected
    last = finding.evidence["journey"][-1]
    assert last["step"] == "order cancelled" and last["outcome"] == "failed" and "status" not in last


def test_an_error_path_names_failure_swallowed_only_when_the_last_answer_was_a_refusal():
    """A value returned over Bluum's refusal is a failure swallowed; a value returned once Bluum accepted a later
    attempt is no refusal swallowed (the path still fails, for not being refused as it should: no cause named)."""
    from bluum_readiness.checks.lifecycle.error_paths import _refusal_shows
    from bluum_readiness.checks.observation import Outcome, Probe
    from tests.checks.test_judges import _attempt

    returned = Outcome("returned", result="None")
    assert _refusal_shows(Probe("withdraw()", returned, (_attempt(1, 422, 0.0),), 0.01)) == "failure-swallowed"
    accepted_later = (_attempt(1, 401, 0.0), _attempt(2, 201, 0.1))
    assert _refusal_shows(Probe("withdraw()", returned, accepted_later, 0.01)) == ""
