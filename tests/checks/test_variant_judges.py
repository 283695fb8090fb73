"""The error-handling and idempotency judges over observations recorded from real runs (``tests/checks/recorded/
variants``): every known-bad client of ``tests/integrations/variants.py`` is flagged by exactly its checks, each
naming the cause of its defect — every other check of its items passes — judged as data, in milliseconds.

Each recording holds every scenario of the items its checks belong to, observed over the real socket proxy against
the embedded twin (``python -m tests.checks.recorded.record variants/<name>``). The correct clients, and the
known-bad ones of ``test_discrimination.LIVE`` (whose live verdicts must equal their recording's), are still run
live by ``test_discrimination.py``; the timing checks over real sockets by its parity test and ``test_prelude.py``."""

from __future__ import annotations

import pytest

from bluum_readiness.checks import registry
from bluum_readiness.checks.judge import Finding, judge
from bluum_readiness.checks.observation import SCENARIOS, Observation
from tests.checks import recorded
from tests.integrations import variants

NV = recorded.NV
RETRIES = ("error-handling.429-backoff-grows", "error-handling.429-jitter", "error-handling.429-retry-after")

#: known-bad client -> the checks that do not pass, each with the cause its finding names (or NV: what its defect
#: leaves nothing to judge on); every other check of the items of its declared checks passes. The required checks
#: that fail are exactly those ``variants.KNOWN_BAD`` declares (``idempotency.orders-keyed`` is advisory).
EXPECTED: dict[str, dict[str, str]] = {
    "no_key": {
        "idempotency.key-on-every-transfer": "no-idempotency-key",
        # no keys at all: whether they are fresh, unguessable or kept on a retry cannot be judged
        **dict.fromkeys(
            ["idempotency.fresh-key-per-operation", "idempotency.unguessable-keys", "idempotency.same-key-on-retry"],
            NV,
        ),
        "idempotency.orders-keyed": "orders-unkeyed",
    },
    "new_key_per_retry": dict.fromkeys(
        ["idempotency.same-key-on-retry", "idempotency.exactly-once"], "new-key-per-attempt"
    ),
    "key_only_on_deposits": {
        "idempotency.key-on-every-transfer": "no-idempotency-key",
        "idempotency.orders-keyed": "orders-unkeyed",
    },
    "counter_keys": {"idempotency.unguessable-keys": "guessable-keys"},
    "timestamp_keys": {"idempotency.unguessable-keys": "guessable-keys"},
    "one_key_for_everything": {
        "idempotency.fresh-key-per-operation": "key-shared-across-operations",
        "idempotency.unguessable-keys": NV,  # one key: too few to judge
    },
    "retries_a_400": {"error-handling.400-not-retried": "client-errors-retried"},
    "retries_409_and_422": {"error-handling.4xx-not-retried": "client-errors-retried"},
    "swallows_4xx": dict.fromkeys(
        ["error-handling.400-not-retried", "error-handling.4xx-not-retried"], "failure-swallowed"
    ),
    "no_jitter": {"error-handling.429-jitter": "no-jitter"},
    "ignores_retry_after": {"error-handling.429-retry-after": "retry-after-ignored"},
    "no_backoff": {
        "error-handling.429-backoff-grows": "no-backoff",
        "error-handling.backoff-between-retries": "no-backoff",
        "error-handling.429-jitter": NV,  # waits of nothing: too quick to judge for jitter
    },
    "no_retry_on_timeout": dict.fromkeys(["error-handling.timeout-retried", "idempotency.exactly-once"], "no-retries"),
    "gives_up_on_reset": dict.fromkeys(
        ["error-handling.dropped-connection-retried", "idempotency.exactly-once"], "no-retries"
    ),
    "no_request_timeout": {"error-handling.request-timeout": "no-timeout"},
    "no_retries_at_all": {
        **dict.fromkeys(
            [
                *RETRIES,
                "error-handling.5xx-retried",
                "error-handling.timeout-retried",
                "error-handling.dropped-connection-retried",
                "idempotency.exactly-once",
            ],
            "no-retries",
        ),
        # never a second attempt: no wait between attempts, no key kept on a retry
        **dict.fromkeys(["error-handling.backoff-between-retries", "idempotency.same-key-on-retry"], NV),
    },
    "no_retry_on_5xx": {"error-handling.5xx-retried": "no-retries", "error-handling.backoff-between-retries": NV},
    "retries_forever_on_429": {"error-handling.429-bounded": "unbounded-retries"},
    "credentials_cached_forever": {"error-handling.401-refresh": "credentials-cached"},
    "loops_on_401": {"error-handling.401-bounded": "unbounded-retries"},
    **dict.fromkeys(
        ["logs_the_secret", "secret_in_exceptions", "secret_in_request_log"],
        {"error-handling.secret-never-logged": "secret-exposed"},
    ),
}


def load(name: str) -> dict[str, Observation]:
    """The recording of the known-bad client ``name`` of ``tests/integrations/variants.py``."""
    return recorded.load(f"variants/{name}")


def items_of(checks: set[str] | dict[str, str]) -> tuple[str, ...]:
    return tuple(sorted({check.split(".")[0] for check in checks}))


def verdicts(name: str, items: tuple[str, ...]) -> dict[str, str]:
    """Check id -> "passed", NV or the cause its finding names, for every check of ``items``, judged over the
    recording of ``name``; a check whose scenarios were not all recorded makes the recording stale."""
    checks = [c for item in items for c in registry.for_item(item)]
    found = recorded.verdicts(load(name), checks)
    missing = {c.id for c in checks} - set(found)
    assert not missing, f"variants/{name}.json lacks the scenarios of {missing}: re-record it (recorded/record.py)"
    return found


@pytest.mark.parametrize("name", sorted(variants.KNOWN_BAD))
def test_a_recorded_client_is_judged_by_exactly_its_checks_with_its_cause(name):
    _, declared = variants.KNOWN_BAD[name]
    found = verdicts(name, items_of(declared))
    flagged = {check: verdict for check, verdict in found.items() if verdict != "passed"}
    assert flagged == EXPECTED[name], found
    failed = {c for c, verdict in flagged.items() if verdict != NV and registry.get(c).severity == "required"}
    assert failed == declared, found  # what the variant declares: exactly these, no others


def test_every_known_bad_client_is_recorded_and_expected():
    assert set(EXPECTED) == set(variants.KNOWN_BAD)
    recorded_names = {p.stem for p in (recorded.HERE / "variants").glob("*.json")}
    assert recorded_names == set(variants.KNOWN_BAD), "record the new one, delete the recording of a removed one"


@pytest.mark.parametrize("name", sorted(variants.KNOWN_BAD))
def test_a_recording_holds_exactly_the_facts_its_scenarios_declare(name):
    """A recording made before a scenario changed its facts is re-recorded, never judged as it is."""
    for scenario, observation in load(name).items():
        declared = set(SCENARIOS[scenario].facts)
        assert set(observation.facts) | set(observation.missing) == declared, (name, scenario)
        assert not set(observation.facts) & set(observation.missing), (name, scenario)


def _finding(check_id: str, name: str) -> Finding:
    spec = registry.get(check_id).judge
    assert spec is not None
    finding = judge(spec, load(name))
    assert isinstance(finding, Finding), finding
    return finding


@pytest.mark.parametrize(
    ("name", "source"),
    [
        ("logs_the_secret", "Python logging"),
        ("secret_in_exceptions", "the exception raised by deposit()"),
        ("secret_in_request_log", "request_log()"),
    ],
)
def test_a_leaked_secret_is_reported_where_it_leaked(name, source):
    failure = _finding("error-handling.secret-never-logged", name).failure()
    assert failure.evidence["where"] == [source], failure.observed
    assert f"({source})" in failure.observed


def test_no_retries_at_all_reads_as_one_cause():
    """The client with no retries at all fails six error-handling checks, each naming the cause "no-retries"; the
    Retry-After check says it could not tell whether Retry-After is honoured."""
    _, declared = variants.KNOWN_BAD["no_retries_at_all"]
    errors = sorted(check for check in declared if check.startswith("error-handling."))
    causes = {check: _finding(check, "no_retries_at_all").cause for check in errors}
    assert len(causes) == 6 and set(causes.values()) == {"no-retries"}, causes
    retry_after = str(_finding("error-handling.429-retry-after", "no_retries_at_all").failure())
    assert "never retried after the 429, so whether it honours Retry-After could not be judged" in retry_after


def test_an_operation_reported_failed_after_the_target_committed_it_is_a_finding():
    observed = _finding("idempotency.exactly-once", "no_retry_on_timeout").observed
    assert "committed at the target but reported as a failure" in observed
    assert "41.00" in observed  # the first storm deposit: its response was withheld after the commit


def test_no_request_timeout_is_named():
    assert "no request timeout" in _finding("error-handling.request-timeout", "no_request_timeout").observed


def test_a_client_that_gives_up_on_a_dropped_connection_is_flagged_on_bluums_sandbox_too():
    """``exactly-once`` needs the twin's ledger, so against Bluum's sandbox ``dropped-connection-retried`` is what flags
    a client that gives up when a connection drops: neither it nor its scenario is twin-only."""
    check = registry.get("error-handling.dropped-connection-retried")
    assert check.judge is not None and not check.twin_only
    assert not any(SCENARIOS[name].twin_only for name in check.judge.scenarios)
    finding = _finding(check.id, "gives_up_on_reset")
    assert finding.cause == "no-retries" and finding.observed.startswith("1 attempt; the call raised"), finding
