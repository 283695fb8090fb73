"""The credentials checks discriminate: each known-bad case is flagged by exactly its checks, and the reference
(clean project, fresh key) passes all of them. Findings never carry the secret."""

from __future__ import annotations

import dataclasses
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bluum_readiness.checks import registry
from bluum_readiness.config import RunConfig, ScanConfig, load_config
from bluum_readiness.failures import ConformanceFailure, NotVerifiable
from bluum_readiness.integration import Credentials
from bluum_readiness.suite.session import SuiteSession
from tests.credentials.gitrepo import Repo
from tests.fixtures.real_target import twin_as_real_target
from tests.integrations import credential_variants
from tests.integrations.credential_variants import HARD_CODED, Case

CHECKS = registry.for_item("credentials")


@pytest.fixture(scope="module")
def session() -> Iterator[SuiteSession]:
    s = SuiteSession.embedded("bluum_readiness.reference:create_fast", credentials=HARD_CODED)
    yield s
    s.close()


@pytest.fixture(scope="module")
def issued() -> Iterator[SuiteSession]:
    """A session whose twin issued the run's pair (no team pair): the known-bad key ages are twin-made pairs."""
    s = SuiteSession.embedded("bluum_readiness.reference:create_fast")
    yield s
    s.close()


def _for(case: Case, session: SuiteSession, issued: SuiteSession) -> SuiteSession:
    return issued if case.key_age_days is not None else session


def _filled(text: str | None) -> str | None:
    return None if text is None else text.replace("{key}", HARD_CODED.key).replace("{secret}", HARD_CODED.secret)


def run_case(session: SuiteSession, case: Case, project: Path, *, git: bool = True) -> dict[str, str]:
    """Lay out the case's project (in a real git repository, its history committed first, then the project files;
    ``git=False``: a plain folder), point the config's scan at it, run every credentials check."""
    repo = Repo(project) if git else None
    for number, state in enumerate(case.history):
        assert repo is not None
        repo.commit(f"state {number}", {name: _filled(text) for name, text in state.items()})
    for name, text in case.project.items():
        path = project / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_filled(text) or "")
    if repo is not None:
        repo.commit("the project as it is", {})
    config_file = project / "bluum-readiness.toml"
    config = load_config(config_file) if config_file.exists() else RunConfig()
    if case.key_created_days_ago is not None and case.key_age_days is None:
        declared = datetime.now(UTC).date() - timedelta(days=case.key_created_days_ago)
        config = dataclasses.replace(config, credentials=dataclasses.replace(config.credentials, key_created=declared))
    session.config = dataclasses.replace(config, scan=ScanConfig(paths=(str(project),)))
    session.factory = case.factory
    original = session.credentials.current
    if case.key_age_days is not None:
        with session.harness() as h:
            made = h.sandbox("POST", "/api-keys", json={"created": time.time() - case.key_age_days * 86400})
        session.credentials.set(Credentials(made["key"], made["secret"]))
    outcomes: dict[str, str] = {}
    try:
        for check in CHECKS:
            try:
                session.run(check)
            except ConformanceFailure as exc:
                outcomes[check.id] = f"failed: {exc}"
            except NotVerifiable as exc:
                outcomes[check.id] = f"not_verifiable: {exc.reason}"
            else:
                outcomes[check.id] = "passed"
    finally:
        session.credentials.set(original)
        session.config = None
    return outcomes


def test_every_credentials_check_is_proven_by_a_known_bad_case() -> None:
    flagged = set().union(*(case.expected for case in credential_variants.KNOWN_BAD.values()))
    assert {c.id for c in CHECKS} == flagged


@pytest.mark.parametrize("name", sorted(credential_variants.GOOD))
def test_correct_cases_pass_every_check(session: SuiteSession, issued: SuiteSession, tmp_path: Path, name: str) -> None:
    case = credential_variants.GOOD[name]
    outcomes = run_case(_for(case, session, issued), case, tmp_path)
    assert all(outcome == "passed" for outcome in outcomes.values()), outcomes


@pytest.mark.parametrize("name", sorted(credential_variants.KNOWN_BAD))
def test_known_bad_case_is_flagged_by_exactly_its_checks(
    session: SuiteSession, issued: SuiteSession, tmp_path: Path, name: str
) -> None:
    case = credential_variants.KNOWN_BAD[name]
    outcomes = run_case(_for(case, session, issued), case, tmp_path)
    assert {c for c, o in outcomes.items() if o.startswith("failed")} == case.expected, outcomes
    assert all(o == "passed" for c, o in outcomes.items() if c not in case.expected), outcomes
    text = " ".join(outcomes.values())
    assert HARD_CODED.secret not in text
    for check in case.expected:
        assert f"[credentials] {check}" in outcomes[check]


def test_a_scan_finding_names_file_line_and_rule(session: SuiteSession, tmp_path: Path) -> None:
    outcomes = run_case(session, credential_variants.KNOWN_BAD["hard_coded_key_in_source"], tmp_path)
    failure = outcomes["credentials.no-secrets-in-code"]
    assert f"{tmp_path}/app/settings.py:1: Bluum sandbox API key" in failure


def test_a_history_finding_names_commit_file_and_line_and_says_rotate_first(
    session: SuiteSession, tmp_path: Path
) -> None:
    outcomes = run_case(session, credential_variants.KNOWN_BAD["key_removed_but_in_git_history"], tmp_path)
    failure = outcomes["credentials.no-secrets-in-code"]
    git = ["git", "-C", str(tmp_path), "rev-list", "--max-parents=0", "HEAD"]
    first = subprocess.run(git, capture_output=True, text=True, check=True).stdout.strip()  # the key's commit
    assert f"{tmp_path}/app/settings.py:4 in commit {first[:7]}: Bluum sandbox API key" in failure
    assert "in git history, no longer in the files" in failure
    assert "rotate the pair now" in failure and "only then, if your policy requires it, rewrite the history" in failure
    assert HARD_CODED.key not in failure and HARD_CODED.key[11:] not in failure


def test_the_probe_restores_the_pair_and_revokes_its_own(session: SuiteSession, tmp_path: Path) -> None:
    before = session.credentials.current
    run_case(session, credential_variants.GOOD["reference"], tmp_path)
    assert session.credentials.current == before
    with session.harness() as h:
        probes = [
            k for k in h.sandbox("GET", "/api-keys")["data"] if k["name"] == "bluum-readiness secret-source probe"
        ]
    assert probes and all(k["status"] == "revoked" for k in probes)


def test_an_empty_project_is_judged_on_the_integrations_own_code(session: SuiteSession, tmp_path: Path) -> None:
    # the config names the reference, whose package is scanned wherever it lives; with nothing at all to scan the
    # check is not verifiable (tests/credentials/test_integration_sources.py)
    outcomes = run_case(session, Case(credential_variants.reference, set(), project={}), tmp_path)
    assert outcomes["credentials.no-secrets-in-code"] == "passed"


def test_a_folder_without_git_judges_the_files_and_says_the_history_is_not_verifiable(
    session: SuiteSession, tmp_path: Path
) -> None:
    clean = run_case(session, credential_variants.GOOD["reference"], tmp_path / "clean", git=False)
    outcome = clean["credentials.no-secrets-in-code"]
    assert outcome.startswith("not_verifiable: git history: no git history here (not a git repository)"), outcome
    assert "the files judged alone hold no secret (the " in outcome
    leaked = run_case(session, credential_variants.KNOWN_BAD["hard_coded_key_in_source"], tmp_path / "key", git=False)
    failure = leaked["credentials.no-secrets-in-code"]
    assert failure.startswith("failed:") and "app/settings.py:1: Bluum sandbox API key" in failure
    assert "git history not scanned: not a git repository" in failure


def _history_read_in_part(session: SuiteSession, project: Path, spoil: Callable[[Repo], Path]) -> str:
    """A project whose history held a pair (removed since) that the scan cannot read: ``spoil`` makes the clone
    to scan from the repository and returns its folder."""
    repo = Repo(project / "origin")
    repo.commit("init", {"app/bluum_client.py": credential_variants.CLEAN_PROJECT["app/bluum_client.py"]})
    repo.commit("pair", {"app/settings.py": f'BLUUM_API_KEY = "{HARD_CODED.key}"\n'})
    repo.commit("gone", {"app/settings.py": None})
    repo.commit("later", {"README.md": "# app\n"})
    session.config = dataclasses.replace(RunConfig(), scan=ScanConfig(paths=(str(spoil(repo)),)))
    session.factory = credential_variants.reference
    try:
        session.run(registry.get("credentials.no-secrets-in-code"))
    except NotVerifiable as exc:
        return exc.reason
    finally:
        session.config = None
    raise AssertionError("passed on a history it could not read")


def test_a_clone_missing_an_object_is_not_verifiable_and_says_what_was_read(
    session: SuiteSession, tmp_path: Path
) -> None:
    def missing_object(repo: Repo) -> Path:
        blob = repo.git("rev-parse", "HEAD~2:app/settings.py")
        (repo.root / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
        return repo.root

    reason = _history_read_in_part(session, tmp_path, missing_object)
    assert reason.startswith("git history: the git history was read only in part (2 of the 4 commits listed"), reason
    assert "git log failed: fatal: unable to read" in reason and HARD_CODED.key not in reason


def test_a_shallow_clone_is_not_verifiable(session: SuiteSession, tmp_path: Path) -> None:
    def shallow(repo: Repo) -> Path:
        clone = tmp_path / "clone"
        git = ["git", "clone", "-q", "--depth", "1", f"file://{repo.root}", str(clone)]
        subprocess.run(git, check=True, capture_output=True, env=repo.env())
        return clone

    reason = _history_read_in_part(session, tmp_path, shallow)
    assert "(1 of the 1 commits listed judged)" in reason and "is a shallow clone" in reason, reason


def test_key_age_is_not_verifiable_against_a_real_target() -> None:
    with twin_as_real_target() as remote:
        with pytest.raises(NotVerifiable, match="does not say when a tenant key was created"):
            remote.run(registry.get("credentials.key-age"))


def test_the_twin_refuses_a_key_created_in_the_future(session: SuiteSession) -> None:
    with session.harness() as h:
        answer = h.sandbox("POST", "/api-keys", json={"created": time.time() + 3600}, expect=400)
    assert answer["error"]["code"] == "BLUM-400-003" and answer["error"]["param"] == "created"


def test_the_teams_adopted_pair_is_not_aged_by_the_twin_nor_by_a_pair_the_suite_made(session: SuiteSession) -> None:
    # the twin adopted HARD_CODED at the run's start (its record says "created now"), and later in the run the
    # suite switched to a pair of its own (as the 401 checks and the rotation drill do): neither is the team's age
    check = registry.get("credentials.key-age")
    original = session.credentials.current
    with pytest.raises(NotVerifiable, match="adopted your key pair") as adopted:
        session.run(check)
    assert "[credentials] key_created" in adopted.value.reason
    with session.harness() as h:
        made = h.sandbox("POST", "/api-keys", json={})
    session.credentials.set(Credentials(made["key"], made["secret"]))
    try:
        with pytest.raises(NotVerifiable, match="adopted your key pair"):
            session.run(check)
    finally:
        session.credentials.set(original)


def test_a_teams_integration_on_a_pair_the_twin_issued_is_not_aged_by_it() -> None:
    # no pair configured: the twin issued the run's, "created" when the run began — that says nothing of the team's
    s = SuiteSession.embedded("tests.integrations.variants:correct_different")
    try:
        with pytest.raises(NotVerifiable, match="the twin issued this run's pair, whose age says nothing of yours"):
            s.run(registry.get("credentials.key-age"))
    finally:
        s.close()
