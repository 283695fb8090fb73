"""The Go and Java starters (``init --lang go|java``) with their example client filled in as the docs say pass the
suite against the twin, and four known-bad variants of that example — withdrawals without an Idempotency-Key, no
retry on 5xx, no retry when a connection drops, a receiver that skips signature verification — fail exactly the checks
that name the defect.

Kept cheap: each build is compiled once per session (tests/protocol/starters.py), and the example clients' scenarios
that mostly wait are observed side by side first, as a user's serial run does (``suite/prelude.py``). The Go starter (a
process starts in milliseconds) runs every check of the items that judge the integration except the alert checks (not
verifiable without alerts(), an optional capability) and the slowest timed ones (their cost is waiting; the Node
integration proves the program path passes them, and `bluum-readiness run` on these starters passes them too); each Go
known-bad variant runs its items' untimed checks and the timed ones it must fail (``judged_checks``, as for the Node
variants). A JVM costs ~0.3 s of CPU per process (a process per check), so the Java starter runs the checks that
exercise each part of it once (``JAVA_CHECKS``: every operation, the retries, the keys, the credentials file, the
receiver and its effects, the log), and each Java known-bad variant the checks that must flag it and one of its item's
checks it must pass. The known-bad variants are judged over observations recorded from real runs of those very programs
(``tests/protocol/recorded``, re-recorded with ``python -m tests.protocol.recorded.record``); at least one per language
(``LIVE``) also runs live, and its live verdicts must be the recorded ones.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bluum_readiness.checks import registry
from bluum_readiness.config import Thresholds
from bluum_readiness.protocol import ProgramFactory
from bluum_readiness.suite.session import SuiteSession
from tests.checks.judging import run_checks
from tests.protocol import recorded, starters
from tests.protocol.test_program_integrations import NEEDS_ALERTS, by_status, exit_times, judged_checks, start_prelude

LANGS = ("go", "java")
#: Items whose checks judge the integration itself (credentials and smoke-test judge the project and the target).
JUDGED_ITEMS = ("lifecycle", "idempotency", "error-handling", "webhooks", "credential-rotation", "observability")
#: Timed checks left to `bluum-readiness run` (seconds of waiting each, on paths the Node integration proves).
SLOWEST = {
    "error-handling.429-backoff-grows",
    "error-handling.backoff-between-retries",
    "error-handling.429-bounded",
    "idempotency.exactly-once",
    "lifecycle.money-invariants",
}
#: The Java starter's checks, in three groups (xdist spreads them): each part of the starter judged once.
JAVA_CHECKS = {
    "operations": (
        "lifecycle.full-journey",  # every operation, the Plaid list envelope, deposits and withdrawals
        "lifecycle.error-paths",  # refusals carry status and code
        "lifecycle.webhook-events",
        "idempotency.key-on-every-transfer",
        "idempotency.same-key-on-retry",
        "error-handling.timeout-retried",  # the per-request timeout (observed beside the retried deposits)
        "error-handling.dropped-connection-retried",  # the retried deposits' dropped connection
    ),
    "faults": (
        "error-handling.5xx-retried",
        "error-handling.400-not-retried",
        "error-handling.401-refresh",  # the credentials file re-read
        "credential-rotation.drill",
        "observability.request-log",  # its JSON log lines
        "observability.failures-logged",  # also the attempts that got no answer
    ),
    "webhooks": (
        "webhooks.signature-verified",
        "webhooks.duplicates-idempotent",
        "webhooks.end-to-end",  # the receiver on the suite's TLS, effects through processed_events
        "webhooks.out-of-order",  # the receiver's state through resource_status
    ),
}
#: What a Java known-bad variant must pass besides failing its checks.
JAVA_ALSO_PASSES = {
    "gives-up-on-reset": "idempotency.same-key-on-retry",  # its 503 and timeout retries keep the key
    "no-withdrawal-key": "idempotency.same-key-on-retry",
    "no-5xx-retry": "error-handling.400-not-retried",
    "unverified-webhooks": "webhooks.duplicates-idempotent",
}
#: variant -> the cause each check that flags it names
CAUSES = {
    "gives-up-on-reset": "no-retries",
    "no-withdrawal-key": "no-idempotency-key",
    "no-5xx-retry": "no-retries",
    "unverified-webhooks": "signature-not-verified",
}
#: (language, known-bad variant) also run live (the others are judged over their recordings). Go's gives-up-on-reset
#: live, because what it proves happens only live: on a reused connection Go's http.Transport resends a keyed POST
#: whose connection dropped, and the code that gives up would never see the drop (the storm's connections are fresh).
LIVE = (("go", "gives-up-on-reset"), ("go", "no-withdrawal-key"), ("java", "no-5xx-retry"))
# variant -> (the items it is judged on, the checks that must flag it)
EXPECTED: dict[str, tuple[tuple[str, ...], set[str]]] = {
    # the storm's dropped deposit and withdrawal: committed, reported failed (the caller would move the money again);
    # the retried deposit whose connection dropped (an idempotency scenario, judged by an error-handling check)
    "gives-up-on-reset": (
        ("idempotency",),
        {"idempotency.exactly-once", "error-handling.dropped-connection-retried"},
    ),
    "no-withdrawal-key": (
        ("idempotency", "lifecycle"),
        {
            "idempotency.key-on-every-transfer",
            "lifecycle.full-journey",
            "lifecycle.error-paths",  # its withdrawal "above the balance" is refused for the missing key
        },
    ),
    "no-5xx-retry": (("error-handling",), {"error-handling.5xx-retried"}),
    "unverified-webhooks": (
        ("webhooks",),
        {"webhooks.signature-verified", "webhooks.timestamp-tolerance", "webhooks.replay-rejected"},
    ),
}


def checks_of(lang: str, variant: str) -> tuple[str, ...]:
    """The checks a known-bad variant is judged on: for Go its items' untimed checks and the timed ones it must fail
    (``judged_checks``), for Java the checks that must flag it and one it must pass (``JAVA_ALSO_PASSES``)."""
    judged_on, expected = EXPECTED[variant]
    if lang == "go":
        # and the checks it must fail of other items, judged on what its items' scenarios observed
        return (*judged_checks(judged_on, expected), *sorted(c for c in expected if c.split(".")[0] not in judged_on))
    return (*sorted(expected), JAVA_ALSO_PASSES[variant])


@pytest.fixture(scope="module")
def session() -> Iterator[SuiteSession]:
    s = SuiteSession.embedded("bluum_readiness.reference:create_fast")
    yield s
    s.close()


@pytest.fixture(scope="module")
def known_bad_session() -> Iterator[SuiteSession]:
    """As for the Node variants: nothing these variants must pass waits on settlement for long."""
    s = SuiteSession.embedded("bluum_readiness.reference:create_fast", thresholds=Thresholds(settle_timeout_s=1.5))
    yield s
    s.close()


def test_every_known_bad_variant_is_expected_somewhere():
    assert set(EXPECTED) == set(starters.KNOWN_BAD) == set(CAUSES) and {v for _, v in LIVE} <= set(EXPECTED)
    assert {f"{lang}-{variant}" for lang in LANGS for variant in EXPECTED} <= set(recorded.names())
    assert SLOWEST <= {c.id for item in JUDGED_ITEMS for c in registry.for_item(item)}


def test_the_java_checks_name_real_checks_and_cover_every_judged_item():
    known = {c.id for item in JUDGED_ITEMS for c in registry.for_item(item)}
    chosen = {check for group in JAVA_CHECKS.values() for check in group}
    assert chosen <= known and {check.split(".")[0] for check in chosen} == set(JUDGED_ITEMS)
    for variant, check in JAVA_ALSO_PASSES.items():
        assert check.split(".")[0] in EXPECTED[variant][0] and check not in EXPECTED[variant][1]


@pytest.mark.parametrize("item", JUDGED_ITEMS)
def test_the_go_starter_with_its_example_client_passes(session, item):
    commands = starters.build("go")
    checks = [c.id for c in registry.for_item(item) if c.id not in NEEDS_ALERTS and c.id not in SLOWEST]
    factory = ProgramFactory(commands[""])
    observed_side_by_side = start_prelude(session, factory, checks)  # as a user's serial run does
    outcomes = run_checks(session, factory, checks)
    observed_side_by_side()
    assert by_status(outcomes, "passed") == set(checks), outcomes


@pytest.mark.parametrize("group", sorted(JAVA_CHECKS))
def test_the_java_starter_with_its_example_client_passes(session, group):
    commands = starters.build("java")
    factory = ProgramFactory(commands[""])
    observed_side_by_side = start_prelude(session, factory, JAVA_CHECKS[group])  # as a user's serial run does
    outcomes = run_checks(session, factory, JAVA_CHECKS[group])
    observed_side_by_side()
    assert by_status(outcomes, "passed") == set(JAVA_CHECKS[group]), outcomes


@pytest.mark.parametrize("variant", sorted(EXPECTED))
@pytest.mark.parametrize("lang", LANGS)
def test_a_known_bad_variant_of_the_example_fails_exactly_its_checks(lang, variant):
    """Judged over the observations recorded from a real run of this very program (``tests/protocol/recorded``);
    ``test_a_known_bad_variant_judged_live_agrees_with_its_recording`` runs one per language live."""
    checks = checks_of(lang, variant)
    assert recorded.verdicts(f"{lang}-{variant}", checks) == expected_verdicts(variant, checks)


def expected_verdicts(variant: str, checks: tuple[str, ...]) -> dict[str, str]:
    """Each check that must flag the variant fails naming its cause, every other one passes — except that the
    journey's withdrawal is refused for the missing key, so its webhook events could not follow (not verifiable)."""
    expected = EXPECTED[variant][1]
    unjudged = {"lifecycle.webhook-events"} if variant == "no-withdrawal-key" else set()
    verdicts = {c: CAUSES[variant] if c in expected else recorded.NV if c in unjudged else "passed" for c in checks}
    assert "passed" in verdicts.values(), f"{variant} must pass something it is judged on"
    return verdicts


@pytest.mark.parametrize(("lang", "variant"), LIVE)
def test_a_known_bad_variant_judged_live_agrees_with_its_recording(known_bad_session, lang, variant):
    """The recording path proven against a live one, per language: the program run over the protocol gets the
    verdicts its recording gets."""
    commands = starters.build(lang)
    checks = checks_of(lang, variant)
    live = recorded.live_verdicts(known_bad_session, ProgramFactory(commands[variant]), checks)
    assert live == recorded.verdicts(f"{lang}-{variant}", checks) == expected_verdicts(variant, checks), live


def test_the_java_starter_exits_at_once_when_the_suite_is_done_with_it(session):
    """Each check closes its integration: a JVM whose webhook receiver still waits for connections when it exits is
    held ~0.3 s by the VM's exit (which waits at least 300 ms for threads in native code), once per check. The
    starter stops its receiver first (~0.02 s). Up to three exits timed, the fastest counting: a loaded machine can
    hold one; the VM's wait alone is never under 0.3 s."""
    commands = starters.build("java")
    with session.harness() as h:
        h.factory = ProgramFactory(commands[""])
        times = exit_times(h, within_s=0.3)
    assert min(times) < 0.3, times


def test_the_java_starter_sets_up_its_receivers_tls_on_the_first_connection(session, tmp_path):
    """The suite starts a program anew for each check, and most checks send no webhook: the Java starter's receiver
    sets up the JDK's TLS (~0.25 s of CPU) when its first connection comes, not at each start. The JVM's log of the
    classes it loaded (to a file: stdout is the protocol's) says when; the webhook checks above prove it serves."""
    import ssl

    import httpx

    log = tmp_path / "classes.log"
    java = starters.build("java")[""]
    tls_classes = "sun.security.ssl.SSLContextImpl "  # what SSLContext.getInstance("TLS") loads

    with session.harness() as h:
        h.factory = ProgramFactory(java.replace("java ", f"java -Xlog:class+load=info:file={log} ", 1))
        integration = h.integration()
        assert integration.webhook_url.startswith("https://127.0.0.1:"), integration.webhook_url
        assert tls_classes not in log.read_text(), "the receiver set up its TLS before any connection"
        assert h.webhook_tls is not None
        answer = httpx.post(
            integration.webhook_url,
            content=b"{}",
            verify=ssl.create_default_context(cafile=h.webhook_tls.ca_file),
            timeout=10,
        )
        # an answer over TLS with the suite's certificate: unsigned, refused (no secret issued yet, or no signature)
        assert answer.json()["error"] in {"not_configured", "invalid_signature"}, answer.text
        assert tls_classes in log.read_text()
