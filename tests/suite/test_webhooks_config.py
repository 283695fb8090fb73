"""``[webhooks]``: the team's endpoint at a URL, its secret from a source, its CA; and the webhooks checks run
against such an endpoint (a receiver served on its own, with a CA the suite does not otherwise know)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from bluum_readiness.checks import registry
from bluum_readiness.config import RunConfig, WebhooksConfig
from bluum_readiness.errors import ConfigError
from bluum_readiness.integration import load_factory
from bluum_readiness.run import Run
from bluum_readiness.suite.session import SuiteSession
from bluum_readiness.webhooks.receiver import ReferenceReceiver
from bluum_readiness.webhooks.tls import LocalCA
from tests.checks.test_discrimination import run_all

SECRET = "whsec_" + "c2VjcmV0LWZvci10aGUtdGVhbXMtZW5kcG9pbnQ="


def test_a_full_webhooks_section_is_read(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("PEM")
    config = RunConfig.from_mapping(
        {
            "webhooks": {
                "url": "https://hooks.example.com/bluum",
                "secret_env": "ACME_WEBHOOK_SECRET",
                "ca_file": str(ca),
                "scheme": "timestamped-hmac",
                "tolerance_s": 120,
                "latency_threshold_s": 2,
            }
        }
    )
    assert config.webhooks == WebhooksConfig(
        url="https://hooks.example.com/bluum", secret_env="ACME_WEBHOOK_SECRET", ca_file=str(ca)
    )
    assert config.webhooks.external
    assert config.thresholds.webhook_scheme == "timestamped-hmac"
    assert config.thresholds.webhook_tolerance_s == 120.0
    assert config.thresholds.webhook_latency_threshold_s == 2.0


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"secret": "whsec_x"}, "never put a secret in the config file"),
        ({"url": "https://h/x"}, "add secret_env, secret_file or secret_command"),
        ({"secret_env": "X"}, "without webhooks.url"),
        ({"url": "https://h/x", "secret_env": "X", "secret_file": "f"}, "keep exactly one source"),
        ({"url": "hooks.example.com", "secret_env": "X"}, "is not a URL"),
        ({"url": "https://h/x", "secret_env": "X", "ca_file": "/nope.pem"}, "no such file"),
        ({"scheme": "standard-webhook"}, "Did you mean 'standard-webhooks'?"),
        ({"tolerance_s": -1}, "must be a finite number of seconds > 0"),
        ({"urll": "https://h/x"}, "Did you mean 'url'?"),
    ],
)
def test_bad_webhooks_settings_say_what_to_fix(section: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace("?", r"\?")):
        RunConfig.from_mapping({"webhooks": section})


def test_the_same_threshold_in_both_sections_is_refused() -> None:
    with pytest.raises(ConfigError, match="both set"):
        RunConfig.from_mapping({"webhooks": {"tolerance_s": 60}, "thresholds": {"webhook_tolerance_s": 60}})


def test_the_secret_comes_from_its_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACME_WEBHOOK_SECRET", SECRET)
    assert WebhooksConfig(url="https://h/x", secret_env="ACME_WEBHOOK_SECRET").resolve_secret() == SECRET
    monkeypatch.delenv("ACME_WEBHOOK_SECRET")
    with pytest.raises(ConfigError, match="set ACME_WEBHOOK_SECRET"):
        WebhooksConfig(url="https://h/x", secret_env="ACME_WEBHOOK_SECRET").resolve_secret()
    held = tmp_path / "secret"
    held.write_text(SECRET + "\n")
    held.chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        WebhooksConfig(url="https://h/x", secret_file=str(held)).resolve_secret()
    held.chmod(0o600)
    assert WebhooksConfig(url="https://h/x", secret_file=str(held)).resolve_secret() == SECRET
    command = ("python3", "-c", f"print({SECRET!r})")
    assert WebhooksConfig(url="https://h/x", secret_command=command).resolve_secret() == SECRET
    assert WebhooksConfig().resolve_secret() is None


# -- the checks against an endpoint that runs elsewhere ------------------------------------------------------


@pytest.fixture(scope="module")
def team_ca() -> Iterator[LocalCA]:
    """The team's own CA: the suite trusts it only because [webhooks] ca_file names it."""
    ca = LocalCA()
    yield ca
    ca.cleanup()


def _session(config: RunConfig, secret: str | None) -> SuiteSession:
    return SuiteSession(Run(config, webhook_secret=secret))


def test_the_webhooks_checks_run_against_a_configured_endpoint(team_ca: LocalCA) -> None:
    receiver = ReferenceReceiver(lambda: SECRET, tls=team_ca.issue(stem="team")).start()
    config = RunConfig.from_mapping(
        {"webhooks": {"url": receiver.url, "secret_env": "UNUSED_HERE", "ca_file": team_ca.ca_file}}
    )
    session = _session(config, SECRET)
    try:
        outcomes = run_all(session, load_factory("bluum_readiness.reference:create_fast"), ("webhooks",))
    finally:
        session.close()
        receiver.stop()
    # effects are not observable on an endpoint elsewhere: the checks that need them say so
    assert outcomes.pop("webhooks.duplicates-idempotent").startswith("not_verifiable:")
    assert outcomes.pop("webhooks.end-to-end").startswith("not_verifiable:")
    assert "the receiver runs elsewhere" in outcomes.pop("webhooks.out-of-order")  # its state cannot be read
    assert outcomes and all(o == "passed" for o in outcomes.values()), outcomes
    # and the deliveries really reached it
    assert receiver.processed_events()


def test_a_configured_endpoint_that_skips_verification_is_flagged(team_ca: LocalCA) -> None:
    from tests.integrations.webhook_variants import NoSignatureCheck

    receiver = NoSignatureCheck(lambda: SECRET, tls=team_ca.issue(stem="team-bad")).start()
    config = RunConfig.from_mapping(
        {"webhooks": {"url": receiver.url, "secret_env": "UNUSED_HERE", "ca_file": team_ca.ca_file}}
    )
    session = _session(config, SECRET)
    try:
        check = registry.get("webhooks.signature-verified")
        with session.harness() as h, pytest.raises(AssertionError) as info:
            check.execute(h)
    finally:
        session.close()
        receiver.stop()
    assert "expected 4xx" in str(info.value)
    assert SECRET not in str(info.value)


def test_without_the_teams_ca_the_handshake_fails_clearly(team_ca: LocalCA) -> None:
    receiver = ReferenceReceiver(lambda: SECRET, tls=team_ca.issue(stem="team-untrusted")).start()
    config = RunConfig.from_mapping({"webhooks": {"url": receiver.url, "secret_env": "UNUSED_HERE"}})
    session = _session(config, SECRET)
    try:
        with session.harness() as h, pytest.raises(AssertionError) as info:
            registry.get("webhooks.tls-certificate").execute(h)
    finally:
        session.close()
        receiver.stop()
    assert "handshake failed" in str(info.value) and "CERTIFICATE_VERIFY_FAILED" in str(info.value)


def test_environment_is_untouched() -> None:
    assert "UNUSED_HERE" not in os.environ


UNUSED = {"webhooks": {"used": False}}
WEBHOOK_CHECKS = [c for c in registry if c.item == "webhooks" or "webhook_url" in c.needs]


def test_webhooks_declared_unused_make_the_webhook_checks_not_applicable() -> None:
    """[webhooks] used = false: every webhooks check, lifecycle.webhook-events and the webhook-failure alert are
    not applicable for an integration that serves no receiver; the other checks run as before."""
    from bluum_readiness.failures import NotApplicable
    from tests.integrations.webhook_variants import no_receiver

    assert {c.id for c in WEBHOOK_CHECKS} >= {"lifecycle.webhook-events", "observability.alert-webhook-failure"}
    session = SuiteSession.embedded()
    try:
        session.config = RunConfig.from_mapping(UNUSED)
        session.factory = no_receiver
        for check in WEBHOOK_CHECKS:
            with pytest.raises(NotApplicable, match=r"\[webhooks\] used = false"):
                session.run(check)
        session.run(registry.get("lifecycle.full-journey"))  # the rest is judged as ever
    finally:
        session.close()


def test_a_declaration_the_run_contradicts_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="used = false, but \\[webhooks\\] url is set"):
        RunConfig.from_mapping({"webhooks": {"used": False, "url": "https://hooks.example.com/bluum",
                                             "secret_env": "X"}})  # fmt: skip
    with pytest.raises(ConfigError, match="must be true or false"):
        RunConfig.from_mapping({"webhooks": {"used": "no"}})
    session = SuiteSession.embedded()  # the reference serves a receiver in twin mode: it uses webhooks
    try:
        session.config = RunConfig.from_mapping(UNUSED)
        with pytest.raises(ConfigError, match="the integration exposes webhook_url"):
            session.run(registry.get("webhooks.https-only"))
    finally:
        session.close()
