"""No check passes an integration that does nothing: the `init` template adapter (every operation raises
NotImplementedError) must never get a "passed". Nor one that answers without calling Bluum (plausible ids, made up
on the spot, as a stub or a queue drained later would): what never reached the target was not observed."""

from __future__ import annotations

from typing import Any

import pytest

from bluum_readiness.checks import registry
from bluum_readiness.config import Thresholds
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


class AnswersWithoutCalling:
    """Every operation "succeeds" at once with a plausible answer, and no request ever leaves: a stub left in, or an
    integration that queues its calls and sends them later."""

    def __init__(self) -> None:
        self.made = 0

    def _id(self, prefix: str) -> str:
        self.made += 1
        return f"{prefix}_01made{self.made:020d}"

    def create_investor(self, profile: Any) -> str:
        return self._id("inv")

    def upload_document(self, investor_id: str, document: Any) -> str:
        return self._id("doc")

    def kyc_status(self, investor_id: str) -> str:
        return "active"

    def link_bank_account(self, investor_id: str, bank: Any) -> str:
        return self._id("fs")

    def deposit(self, investor_id: str, funding_source_id: str, amount: str) -> str:
        return self._id("dep")

    def withdraw(self, investor_id: str, funding_source_id: str, amount: str) -> str:
        return self._id("wd")

    def place_order(self, investor_id: str, order: Any) -> str:
        return self._id("ord")

    def get_order(self, investor_id: str, order_id: str) -> dict[str, Any]:
        return {"id": order_id, "status": "filled"}

    def cancel_order(self, investor_id: str, order_id: str) -> None:
        return None

    def positions(self, investor_id: str) -> list[Any]:
        return []


INTEGRATIONS = {"does-nothing": does_nothing, "answers-without-calling": lambda env: AnswersWithoutCalling()}


@pytest.fixture(scope="module", params=sorted(INTEGRATIONS))
def session(request):
    # the drill waits min(settle_timeout_s, 5 s) for the new pair to be seen at the target: 1 s is enough for these
    s = SuiteSession.embedded("bluum_readiness.reference:create_fast", thresholds=Thresholds(settle_timeout_s=1.0))
    s.factory = INTEGRATIONS[request.param]
    yield s
    s.close()


@pytest.mark.parametrize(
    "check",
    [c for c in registry if c.item not in ("smoke-test",) and c.id not in JUDGE_NO_ADAPTER],
    ids=lambda c: c.id,
)
def test_no_check_passes_an_integration_that_does_nothing_or_answers_without_calling_bluum(session, check):
    """The one that answers without calling: before, lifecycle.money-invariants passed it (no money anywhere, so
    none created or lost) and so did credential-rotation.drill (no operation failed: none reached the target, with
    either pair), and its other checks were broken ("harness error") instead of failed."""
    with pytest.raises((ConformanceFailure, NotVerifiable)):
        session.run(check)
