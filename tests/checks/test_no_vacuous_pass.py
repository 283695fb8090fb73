"""No check passes an integration that does nothing: the `init` template adapter (every operation raises
NotImplementedError) must never get a "passed"."""

from __future__ import annotations

from typing import Any

import pytest

from bluum_readiness.checks import registry
from bluum_readiness.failures import ConformanceFailure, NotVerifiable
from bluum_readiness.integration import OPERATIONS, IntegrationEnv
from bluum_readiness.suite.session import SuiteSession


class DoesNothing:
    """Implements the contract's names, and nothing else."""

    def __getattr__(self, name: str) -> Any:
        if name in OPERATIONS:

            def not_implemented(*args: Any, **kwargs: Any) -> Any:
                raise NotImplementedError(name)

            return not_implemented
        raise AttributeError(name)


def does_nothing(env: IntegrationEnv) -> DoesNothing:
    return DoesNothing()


# checks that judge the team's files or its tenant key, not the adapter: they pass whatever the adapter does,
# like the smoke test (each has its own known-bad proof in tests/checks/test_credential_checks.py)
JUDGE_NO_ADAPTER = ("credentials.no-secrets-in-code", "credentials.key-age")


@pytest.fixture(scope="module")
def session():
    s = SuiteSession.embedded("bluum_readiness.reference:create_fast")
    s.factory = does_nothing
    yield s
    s.close()


@pytest.mark.parametrize(
    "check",
    [c for c in registry if c.item not in ("smoke-test",) and c.id not in JUDGE_NO_ADAPTER],
    ids=lambda c: c.id,
)
def test_no_check_passes_an_integration_that_does_nothing(session, check):
    with pytest.raises((ConformanceFailure, NotVerifiable)):
        session.run(check)
