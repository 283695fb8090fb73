"""Running chosen checks against an integration for the project's own tests: check id -> outcome."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from bluum_readiness.checks import registry
from bluum_readiness.failures import ConformanceFailure, NotVerifiable
from bluum_readiness.integration import IntegrationEnv
from bluum_readiness.suite.session import SuiteSession


def run_checks(
    session: SuiteSession,
    factory: Callable[[IntegrationEnv], Any],
    checks: Iterable[str],
    evidence: dict[str, dict[str, Any]] | None = None,
) -> dict[str, str]:
    """Run the named checks (in that order) against the integration; check id -> outcome (and failure text), as
    ``tests.checks.test_discrimination.run_all`` gives for whole items. ``evidence`` receives each check's evidence
    by check id."""
    session.factory = factory
    outcomes: dict[str, str] = {}
    for check_id in checks:
        shown: dict[str, Any] | None = None if evidence is None else evidence.setdefault(check_id, {})
        try:
            session.run(registry.get(check_id), shown)
        except ConformanceFailure as exc:
            outcomes[check_id] = f"{'failed' if exc.severity == 'required' else 'advisory'}: {exc}"
        except NotVerifiable as exc:
            outcomes[check_id] = f"not_verifiable: {exc.reason}"
        else:
            outcomes[check_id] = "passed"
    return outcomes
