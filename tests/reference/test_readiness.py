"""The reference integration passes every registered readiness check out of the box (through the fault proxy,
against an embedded twin), so a change to either side that breaks the other shows up here.

The jitter is seeded here so the statistical backoff checks see the same draws on every run (timing noise
aside); the shipped factories draw from the OS, as production clients must.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from bluum_readiness.checks import Check, registry
from bluum_readiness.failures import NotVerifiable
from bluum_readiness.integration import IntegrationEnv
from bluum_readiness.reference import ReferenceIntegration, create_fast
from bluum_readiness.suite.session import SuiteSession
from tests.checks.test_discrimination import TIMED
from tests.credentials.gitrepo import Repo

#: Optional capabilities the reference integration does not offer (yet); checks that need them may not verify.
MISSING = {name for name in ("alerts", "webhook_url", "processed_events") if not hasattr(ReferenceIntegration, name)}


SEED = 20240601


def seeded_fast(env: IntegrationEnv) -> ReferenceIntegration:
    return create_fast(env, rng=random.Random(SEED))


@pytest.fixture(scope="module")
def session() -> Iterator[SuiteSession]:
    suite = SuiteSession.embedded("bluum_readiness.reference:create_fast")
    suite.factory = seeded_fast
    yield suite
    suite.close()


# The timing checks are judged on the reference over these same sockets (and in virtual time, with the same outcome
# required) by tests/checks/test_discrimination.py::test_virtual_time_judges_as_the_socket_proxy_does[reference]:
# running them here again would only repeat ~5 s of real waits.
OVER_SOCKETS_ELSEWHERE = set(TIMED)


@pytest.mark.parametrize("check", [c for c in registry if c.id not in OVER_SOCKETS_ELSEWHERE], ids=lambda c: c.id)
def test_the_reference_passes(
    check: Check, session: SuiteSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # From an empty project folder, as `bluum-readiness run` in a new project: the secret scan judges the
    # integration's own code (the reference package), not this repository and its whole git history (the README's
    # first command, run in the checkout, is that scan). The folder is a git repository with one commit: outside
    # git the history is not verifiable (tests/checks/test_credential_checks.py).
    if check.id == "credentials.no-secrets-in-code":
        Repo(tmp_path).commit("a new project", {"README.md": "# app\n"})
    monkeypatch.chdir(tmp_path)
    try:
        session.run(check)
    except NotVerifiable as exc:
        if not MISSING.intersection(check.needs):
            raise
        pytest.skip(f"needs {', '.join(sorted(MISSING.intersection(check.needs)))}: {exc.reason}")
