"""Every secret a session has seen is scrubbed: every pair its credential store held, and webhook secrets."""

from __future__ import annotations

import base64

from bluum_readiness.checks.registry import Check
from bluum_readiness.integration import Credentials
from bluum_readiness.suite.session import SuiteSession


def test_secrets_cover_every_pair_held_and_every_webhook_secret_seen() -> None:
    session = SuiteSession.embedded()
    try:
        assert session.credentials is not None
        first = session.credentials.current
        session.credentials.set(Credentials("key-two", "secret-two-0123456789"))
        session.credentials.set(first)  # back again: listed once

        def registers(h):  # type: ignore[no-untyped-def]
            h.webhook_secret.set("whsec_seen-by-a-check")

        session.run(Check("webhooks.tiny", "webhooks", "tiny", registers))
        found = session.secrets
    finally:
        session.close()
    token = base64.b64encode(b"key-two:secret-two-0123456789").decode()
    assert {first.secret, "secret-two-0123456789", token, "whsec_seen-by-a-check"} <= set(found)
    assert len(found) == len(set(found))
