"""The rotation drill beyond pass/fail: it leaves the session consistent (the new pair current, reported secrets
updated), its evidence carries the runbook and no secret, and against a real environment it needs the team's second
pair and never claims a pass it cannot prove (the old pair cannot be revoked there)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bluum_readiness.checks import registry
from bluum_readiness.checks.rotation import RUNBOOK
from bluum_readiness.config import RunConfig, Thresholds
from bluum_readiness.errors import ConfigError
from bluum_readiness.failures import ConformanceFailure, NotVerifiable
from bluum_readiness.suite.session import SuiteSession
from tests.checks.recorded import cutover
from tests.integrations import cutover_variants

pytest_plugins = ["pytester"]

DRILL = registry.get("credential-rotation.drill")
DOCS = Path(__file__).resolve().parents[2] / "docs" / "rotation-runbook.md"


@pytest.fixture
def session() -> Iterator[SuiteSession]:
    s = SuiteSession.embedded()
    yield s
    s.close()


def test_the_drill_leaves_the_new_pair_current_and_reported_secrets_follow(session):
    assert session.credentials is not None
    old = session.credentials.current
    evidence: dict[str, object] = {}
    session.run(DRILL, evidence)
    new = session.credentials.current
    assert new.key != old.key and new.secret != old.secret
    assert new.secret in session.secrets  # what the plugin scrubs from reports at the end of the session
    text = json.dumps(evidence, default=str)
    assert old.secret not in text and new.secret not in text
    assert evidence["runbook"] == RUNBOOK
    rotation = evidence["rotation"]
    assert isinstance(rotation, dict) and rotation["failed_operations"] == []
    assert rotation["new_key"].endswith(new.key[-4:]) and new.key not in text  # key ids are shown masked
    assert [s["step"] for s in rotation["steps"]][-2:] == ["old pair revoked", "final probe"]
    # the old pair is gone for good; later checks (here: the smoke test) run with the new one
    assert httpx.get(f"{session.target.base_url}/assets", auth=(old.key, old.secret)).status_code == 401
    session.run(registry.get("smoke-test.read-only-200"))


@pytest.fixture
def short_settle_session() -> Iterator[SuiteSession]:
    """A pair read once is never adopted: the drill waits min(settle_timeout_s, 5 s) for it before revoking, in full.
    1 s still leaves the warm-up (four operations, about 0.07 s on loopback) fourteen times what it takes."""
    s = SuiteSession.embedded(thresholds=Thresholds(settle_timeout_s=1.0))
    yield s
    s.close()


def test_a_failed_drill_names_the_failed_operations_and_keeps_a_working_pair(short_settle_session):
    """The rotation item's known-bad integration, live over real sockets: it reads as its recording does
    (``tests/checks/recorded/cutover``, judged in ``test_rotation_observability_checks.py``)."""
    session = short_settle_session
    session.factory = cutover_variants.credentials_cached_forever  # type: ignore[attr-defined]
    evidence: dict[str, Any] = {}
    with pytest.raises(ConformanceFailure) as caught:
        session.run(DRILL, evidence)
    failure = caught.value
    assert failure.checklist_id == "credential-rotation"
    assert failure.cause == "credentials-cached"  # the cause error-handling.401-refresh names for the same defect
    assert {DRILL.id: failure.cause} == cutover.verdicts("credentials_cached_forever", [DRILL.id])
    # the first failure met the revoked pair: begun after the revocation, or in flight when it happened
    assert "operations failed during the drill" in failure.observed and "(revoked" in failure.observed
    assert evidence["rotation"]["failed_operations"][0]["ended_in"] == "revoked"
    assert evidence["rotation"]["failed_operations"] and evidence["runbook"]["steps"]
    session.run(registry.get("smoke-test.read-only-200"))  # the store holds the new, working pair


def test_the_runbook_in_the_report_is_the_documented_one():
    doc = DOCS.read_text(encoding="utf-8")
    flat = " ".join(doc.split())
    for number, step in enumerate(RUNBOOK["steps"], start=1):
        assert f"{number}. {step}" in flat, f"docs/rotation-runbook.md lacks step {number} as the report shows it"
    assert " ".join(RUNBOOK["rollback"].split()) in flat
    assert RUNBOOK["document"] == "docs/rotation-runbook.md"


# -- a real environment (here: the twin's URL, treated as a remote target without sandbox controls) ---------------


@pytest.fixture
def remote() -> Iterator[SuiteSession]:
    twin = SuiteSession.embedded()
    assert twin.twin is not None and twin.credentials is not None
    s = SuiteSession.against(twin.twin.base_url, twin.credentials.current)
    s.twin = twin.twin  # closed with the session; the target stays "remote" (no sandbox controls)
    yield s
    s.close()


def test_against_a_real_environment_the_second_pair_must_be_configured(remote):
    with pytest.raises(NotVerifiable, match=r"needs a second key pair.*\[rotation\]"):
        remote.run(DRILL)


def test_against_a_real_environment_a_clean_switch_is_not_verifiable_until_revoked_by_hand(remote, monkeypatch):
    assert remote.twin is not None
    made = httpx.post(f"{remote.twin.origin}/_sandbox/api-keys", json={"name": "the team's second pair"},
                      auth=remote.twin.auth).json()  # fmt: skip
    second = (made["key"], made["secret"])
    monkeypatch.setenv("BLUUM_NEXT_API_KEY", second[0])
    monkeypatch.setenv("BLUUM_NEXT_API_SECRET", second[1])
    remote.config = RunConfig.from_mapping({"rotation": {"source": "env"}})
    with pytest.raises(NotVerifiable, match="revoke it in the Bluum dashboard"):
        remote.run(DRILL)
    assert remote.credentials is not None and remote.credentials.current.key == second[0]


def test_a_missing_second_pair_in_the_environment_is_a_config_error(remote, monkeypatch):
    monkeypatch.delenv("BLUUM_NEXT_API_KEY", raising=False)
    monkeypatch.delenv("BLUUM_NEXT_API_SECRET", raising=False)
    remote.config = RunConfig.from_mapping({"rotation": {"source": "env"}})
    with pytest.raises(ConfigError, match=r"BLUUM_NEXT_API_KEY.*\[rotation\]"):
        remote.run(DRILL)


# -- the report scrubs the pair the drill left current ---------------------------------------------------------------

LEAKY_RUN = '''
import pytest
from pathlib import Path
from bluum_readiness.checks import registry
from bluum_readiness.suite.listener import EVIDENCE


@pytest.mark.checklist("credential-rotation")
def test_drill(run_check):
    run_check(registry.get("credential-rotation.drill"))


@pytest.mark.checklist("observability")
def test_leaks_the_current_secret(suite_session, request):
    """A hypothetical check whose evidence carries the secret in use: only the report's scrubbing stands between."""
    assert suite_session.credentials.current.key != suite_session.twin.pair.key  # the drill rotated the pair
    secret = suite_session.credentials.current.secret
    Path("new-secret.txt").write_text(secret)
    request.node.stash.setdefault(EVIDENCE, {})["leak"] = f"secret={secret}"
'''


def test_the_report_scrubs_the_new_secret(pytester: pytest.Pytester) -> None:
    from bluum_readiness.suite.paths import plugin_args

    pytester.makepyfile(LEAKY_RUN)
    result = pytester.runpytest(*plugin_args(), "-p", "no:cacheprovider", "--readiness-out", "out")
    result.assert_outcomes(passed=2)
    secret = Path(pytester.path, "new-secret.txt").read_text()
    report = Path(pytester.path, "out", "readiness.json").read_text()
    assert len(secret) >= 32 and secret not in report
    assert '"leak": "secret=***"' in report


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"source": "vault"}, "rotation.source 'vault' is not one of"),
        ({"source": "file"}, 'rotation.source = "file" needs rotation.path'),
        ({"secret": "x" * 64}, "rotation.secret: never put a secret in the config file"),
        ({"rotation_period_days": 90}, "belongs in [credentials]"),
    ],
)
def test_rotation_section_mistakes_are_one_line_config_errors(table, message):
    with pytest.raises(ConfigError) as caught:
        RunConfig.from_mapping({"rotation": table})
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_rotation_section_defaults_to_the_next_pair_variables():
    rotation = RunConfig.from_mapping({"rotation": {}}).rotation
    assert rotation is not None and (rotation.key_env, rotation.secret_env) == (
        "BLUUM_NEXT_API_KEY",
        "BLUUM_NEXT_API_SECRET",
    )
    assert RunConfig.from_mapping({}).rotation is None
