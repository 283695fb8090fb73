"""Record the observations of ``tests/checks/recorded`` from real runs (sockets, the embedded twin):
``python -m tests.checks.recorded.record [name ...]`` (all when none is named). Takes a few seconds. Each file is
written by ``recording.write``: trimmed to what the judges read, and refused if any judge whose scenarios it holds
judges it differently from the facts as observed."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from typing import Any

from bluum_readiness.checks import registry
from bluum_readiness.config import Thresholds
from bluum_readiness.integration import IntegrationEnv, load_factory
from bluum_readiness.redaction import forms
from bluum_readiness.suite.session import SuiteSession
from tests.checks.recorded import HERE, observe_each, recording
from tests.integrations import lifecycle_variants, variants, webhook_variants

DELIVERIES = ("webhook-deliveries",)
ALL_WEBHOOKS = ("webhook-endpoint", "webhook-deliveries", "webhook-journey")
JOURNEY = ("journey",)
LIFECYCLE = ("journey", "money", "journey-webhooks", "error-paths")


def _status_only(env: IntegrationEnv) -> Any:
    """The reference whose receiver's effects and state the suite cannot read (no processed_events(), no
    resource_status()): what a program without those capabilities shows."""
    made = load_factory("bluum_readiness.reference:create_fast")(env)
    made.processed_events = None
    made.resource_status = None
    return made


def _lifecycle_bad(name: str) -> Callable[[IntegrationEnv], Any]:
    return lifecycle_variants.KNOWN_BAD[name][0]


def _scenarios_of_items(checks: Iterable[str]) -> tuple[str, ...]:
    """Every scenario the checks of the items of ``checks`` read, in the registry's order: what a run of those items
    observes, so each of their checks is judged on the recording."""
    items = {check.split(".")[0] for check in checks}
    read = (s for item in sorted(items) for c in registry.for_item(item) if c.judge for s in c.judge.scenarios)
    return tuple(dict.fromkeys(read))


def _webhook_bad(name: str) -> Callable[[IntegrationEnv], Any]:
    return {**webhook_variants.KNOWN_BAD, **webhook_variants.KNOWN_BAD_SLOW}[name][0]


#: name -> (factory, the scenarios recorded, the latency threshold the session holds receivers to)
RECORDINGS: dict[str, tuple[Callable[[], Callable[[IntegrationEnv], Any]], tuple[str, ...], float]] = {
    "reference": (
        lambda: load_factory("bluum_readiness.reference:create_fast"),
        (*ALL_WEBHOOKS, *JOURNEY, "journey-webhooks"),
        2.0,
    ),
    "correct_different": (lambda: load_factory("tests.integrations.variants:correct_different"), JOURNEY, 2.0),
    # every known-bad integration of tests/integrations/lifecycle_variants.py: every lifecycle scenario
    **{name: ((lambda name=name: _lifecycle_bad(name)), LIFECYCLE, 2.0) for name in lifecycle_variants.KNOWN_BAD},
    # one key for every operation: the journey's steps and error paths are refused for reusing it (BLUM-409-002)
    "one_key_for_everything": (lambda: variants.KNOWN_BAD["one_key_for_everything"][0], LIFECYCLE, 2.0),
    # The known-bad clients of tests/integrations/variants.py (error handling, idempotency), in recorded/variants/:
    # every scenario of the items their checks belong to (test_variant_judges.py).
    **{
        f"variants/{name}": ((lambda name=name: variants.KNOWN_BAD[name][0]), _scenarios_of_items(expected), 2.0)
        for name, (_, expected) in variants.KNOWN_BAD.items()
    },
    "status_only": (lambda: _status_only, DELIVERIES, 2.0),
    "slow_ack": (lambda: _webhook_bad("slow_ack"), DELIVERIES, 0.3),
    "plain_http": (lambda: _webhook_bad("plain_http"), ALL_WEBHOOKS, 2.0),
    "no_dedupe": (lambda: _webhook_bad("no_dedupe"), (*DELIVERIES, "webhook-journey"), 2.0),
    "dedupes_on_the_signature": (
        lambda: _webhook_bad("dedupes_on_the_signature"),
        (*DELIVERIES, "webhook-journey"),
        2.0,
    ),
    **{
        name: ((lambda name=name: _webhook_bad(name)), DELIVERIES, 2.0)
        for name in (
            "no_signature_check",
            "no_timestamp_check",
            "replay_window_twice_as_wide",
            "racy_dedupe",
            "accepts_replay",
            "processes_before_verifying",
            "regresses_on_out_of_order",
        )
    },
}


def _without_secrets(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every form of ``secrets`` (the key pairs' secrets and Basic tokens) replaced by ``***``: a
    known-bad client that puts them in its exceptions' messages leaves no secret in a recording (key ids stay: the
    judges compare them)."""
    for form in sorted({form for secret in secrets for form in forms(secret)}, key=len, reverse=True):
        text = text.replace(form, "***")
    return text


def record(name: str) -> None:
    factory, scenarios, threshold = RECORDINGS[name]
    session = SuiteSession.embedded(thresholds=Thresholds(webhook_latency_threshold_s=threshold, settle_timeout_s=1.0))
    session.factory = factory()
    pairs = [session.credentials.current]  # and every pair a scenario rotates to
    session.credentials.subscribe(pairs.append)
    observed = observe_each(session, scenarios)
    secrets = [s for pair in pairs for s in (pair.secret, pair.basic_token())]
    print(recording.write(HERE / f"{name}.json", observed, redact=lambda text: _without_secrets(text, secrets)))


if __name__ == "__main__":
    for chosen in sys.argv[1:] or sorted(RECORDINGS):
        record(chosen)
