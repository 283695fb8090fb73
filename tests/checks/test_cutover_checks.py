"""The smoke-test check passes with the deployed pair and flags a stale one."""

from __future__ import annotations

import pytest

from bluum_readiness.checks import registry
from bluum_readiness.failures import ConformanceFailure
from bluum_readiness.integration import Credentials
from bluum_readiness.suite.session import SuiteSession


@pytest.fixture(scope="module")
def session():
    s = SuiteSession.embedded("bluum_readiness.reference:create_fast")
    yield s
    s.close()


def test_smoke_passes_with_the_deployed_pair(session):
    session.run(registry.get("smoke-test.read-only-200"))


def test_smoke_flags_a_secret_that_was_not_updated(session):
    assert session.credentials is not None
    good = session.credentials.current
    session.credentials.set(Credentials(good.key, "f" * 64))
    try:
        with pytest.raises(ConformanceFailure) as failure:
            session.run(registry.get("smoke-test.read-only-200"))
    finally:
        session.credentials.set(good)
    assert failure.value.checklist_id == "smoke-test"
    assert "the key or secret was not updated" in failure.value.observed
    assert "f" * 64 not in str(failure.value)
