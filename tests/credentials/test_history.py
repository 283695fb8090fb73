"""The history scan on real git repositories: a key added then removed is reported by commit, file and line; only
what HEAD reaches; bounded by depth and bytes; cached by commit; off when asked, when there is no repository or no
git. Nothing secret in findings, evidence or the cache."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from bluum_readiness.config import RunConfig, ScanConfig
from bluum_readiness.credentials import gitlog
from bluum_readiness.credentials.scan import scan, scan_configured, write_baseline
from bluum_readiness.credentials.scan_cache import ScanCache
from tests.credentials.gitrepo import Repo


def key(label: str) -> str:
    return "test_bluum_" + hashlib.sha256(label.encode()).hexdigest()


def secret(label: str) -> str:
    return hashlib.sha256(b"secret " + label.encode()).hexdigest()


CLEAN = 'import os\n\nKEY = os.environ["BLUUM_API_KEY"]\n'


def leaked(label: str) -> str:
    """The issue's shape: a fallback pair, each literal on the line below its name."""
    return (
        "const BLUUM_API_KEY = process.env.BLUUM_API_KEY ||\n"
        f"  '{key(label)}';\n"
        "const BLUUM_API_SECRET = process.env.BLUUM_API_SECRET ||\n"
        f"  '{secret(label)}';\n"
    )


def history_scan(root: Path, cache: ScanCache | None = None, **kwargs: object):  # type: ignore[no-untyped-def]
    options = {"history_depth": 1000, **kwargs}
    return scan(["."], cwd=root, cache=cache or ScanCache(None), **options)  # type: ignore[arg-type]


def everything_shown(result) -> str:  # type: ignore[no-untyped-def]
    return " ".join(
        [*(str(f) for f in result.findings), *(str(f) for f in result.history_findings), json.dumps(result.evidence())]
    )


def test_a_key_added_then_removed_is_reported_by_commit_file_and_line(tmp_path: Path) -> None:
    repo = Repo(tmp_path)
    repo.commit("init", {"app/client.ts": CLEAN})
    added = repo.commit("fallback pair", {"app/client.ts": leaked("one")})
    repo.commit("read the pair from the environment", {"app/client.ts": CLEAN})
    result = history_scan(tmp_path)
    assert result.findings == []
    assert [str(f) for f in result.history_findings] == [
        f"app/client.ts:2 in commit {added[:7]}: Bluum sandbox API key",
        f"app/client.ts:4 in commit {added[:7]}: Bluum API secret",
    ]
    assert result.committed
    history = result.evidence()["history"]
    assert history["status"] == "scanned" and history["commits_scanned"] == 3 and history["findings_total"] == 2
    assert history["findings"][0] == {
        "commit": added[:7], "file": "app/client.ts", "line": 2, "rule": "Bluum sandbox API key", "later_commits": 0,
    }  # fmt: skip
    shown = everything_shown(result)
    assert key("one") not in shown and secret("one") not in shown and key("one")[11:] not in shown


def test_a_clean_repository_reports_nothing(tmp_path: Path) -> None:
    repo = Repo(tmp_path)
    repo.commit("init", {"app/client.py": CLEAN, "README.md": "# app\n"})
    repo.commit("more", {"app/util.py": "def add(a, b):\n    return a + b\n"})
    result = history_scan(tmp_path)
    assert result.history.ran and result.history.commits == 2
    assert result.findings == [] and result.history_findings == []


def test_a_key_only_in_a_branch_head_does_not_reach_is_not_reported_until_merged(tmp_path: Path) -> None:
    repo = Repo(tmp_path)
    repo.commit("init", {"app/client.py": CLEAN})
    repo.git("checkout", "-q", "-b", "experiment")
    on_branch = repo.commit("try a pasted pair", {"app/client.ts": leaked("branch")})
    repo.commit("drop it", {"app/client.ts": None})
    repo.git("checkout", "-q", "main")
    assert history_scan(tmp_path).history_findings == []
    repo.git("merge", "-q", "--no-ff", "-m", "merge experiment", "experiment")
    assert {(f.commit, f.file, f.line) for f in history_scan(tmp_path).history_findings} == {
        (on_branch[:7], "app/client.ts", 2),
        (on_branch[:7], "app/client.ts", 4),
    }


def test_a_secret_still_in_the_files_is_reported_once_marked_as_committed(tmp_path: Path) -> None:
    repo = Repo(tmp_path)
    first = repo.commit("pair", {"app/client.ts": leaked("still")})
    repo.commit("unrelated", {"README.md": "# app\n"})
    result = history_scan(tmp_path)
    assert result.history_findings == []
    assert [str(f) for f in result.findings] == [
        f"app/client.ts:2: Bluum sandbox API key (committed: in git history since {first[:7]})",
        f"app/client.ts:4: Bluum API secret (committed: in git history since {first[:7]})",
    ]
    assert result.committed and result.evidence()["history"]["also_in_the_files"] == 2


def test_a_secret_added_by_several_commits_is_one_finding_at_the_oldest_and_renames_add_nothing(tmp_path: Path) -> None:
    repo = Repo(tmp_path)
    first = repo.commit("one", {"a.ts": f"const k = '{key('same')}';\n"})
    repo.commit("moved", {"a.ts": None, "b.ts": f"// moved\nconst k = '{key('same')}';\n"})
    repo.commit("and again", {"c.ts": f"const k = '{key('same')}';\n"})
    repo.commit("gone", {"b.ts": None, "c.ts": None})
    found = history_scan(tmp_path).history_findings
    # the rename a.ts -> b.ts added only the comment; c.ts added the key again
    assert [(f.commit, f.file, f.line, f.later_commits) for f in found] == [(first[:7], "a.ts", 1, 1)]
    assert str(found[0]) == f"a.ts:1 in commit {first[:7]} (and 1 later commit): Bluum sandbox API key"


def test_history_false_skips_it_and_the_evidence_says_so(tmp_path: Path) -> None:
    repo = Repo(tmp_path)
    repo.commit("pair", {"app/client.ts": leaked("off")})
    repo.commit("gone", {"app/client.ts": CLEAN})
    on = scan_configured(RunConfig(), cwd=tmp_path)
    assert len(on.history_findings) == 2
    off = scan_configured(RunConfig(scan=ScanConfig(history=False)), cwd=tmp_path)
    assert off.history_findings == [] and off.evidence()["history"] == {"status": "off"}


def test_the_depth_limit_bounds_it(tmp_path: Path) -> None:
    repo = Repo(tmp_path)
    repo.commit("pair", {"app/client.ts": leaked("deep")})
    repo.commit("gone", {"app/client.ts": CLEAN})
    for n in range(3):
        repo.commit(f"work {n}", {f"app/m{n}.py": f"N = {n}\n"})
    shallow = history_scan(tmp_path, history_depth=3)
    assert shallow.history_findings == []
    assert shallow.history.commits == 3 and shallow.history.more_than_depth
    assert shallow.evidence()["history"]["more_commits_than_depth"] is True
    assert len(history_scan(tmp_path, history_depth=5).history_findings) == 2


def test_the_byte_bound_leaves_the_rest_for_the_next_run_uncached(tmp_path: Path) -> None:
    repo = Repo(tmp_path)
    repo.commit("pair", {"app/client.ts": leaked("bytes")})
    repo.commit("gone", {"app/client.ts": CLEAN})
    for n in range(4):
        repo.commit(f"work {n}", {f"app/m{n}.py": "x = 1\n" * 200})
    cache = ScanCache(tmp_path.parent / f"{tmp_path.name}-cache")
    bounded = history_scan(tmp_path, cache=cache, history_max_bytes=3000)
    assert bounded.history.commits_left_by_byte_bound > 0 and bounded.history_findings == []
    full = history_scan(tmp_path, cache=cache)
    assert full.history.commits_from_cache == 6 - bounded.history.commits_left_by_byte_bound
    assert full.history.commits_read == bounded.history.commits_left_by_byte_bound
    assert len(full.history_findings) == 2


def test_a_repeat_scan_asks_git_only_for_the_commit_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = Repo(tmp_path / "repo")
    repo.commit("pair", {"app/client.ts": leaked("cached")})
    repo.commit("gone", {"app/client.ts": CLEAN})
    cache = ScanCache(tmp_path / "cache")
    patches: list[list[str]] = []
    real = gitlog.subprocess.Popen

    def counting(args: list[str], **kwargs: object):  # type: ignore[no-untyped-def]
        if "log" in args:
            patches.append(args)
        return real(args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(gitlog.subprocess, "Popen", counting)
    first = history_scan(repo.root, cache=cache)
    assert first.history.commits_read == 2 and first.history.commits_from_cache == 0 and len(patches) == 1
    again = history_scan(repo.root, cache=cache)
    assert again.history.commits_read == 0 and again.history.commits_from_cache == 2
    # what a cached commit covered is in its entry: the evidence says the same with or without git
    assert (again.history.added_lines, again.history.added_bytes) == (first.history.added_lines,
                                                                      first.history.added_bytes)  # fmt: skip
    assert len(patches) == 1  # no `git log -p` the second time
    assert [str(f) for f in again.history_findings] == [str(f) for f in first.history_findings]
    stored = "".join(p.read_text() for p in (tmp_path / "cache").rglob("*.json"))
    assert key("cached")[11:] not in stored and secret("cached") not in stored
    repo.commit("another", {"app/more.py": "y = 2\n"})
    third = history_scan(repo.root, cache=cache)
    assert third.history.commits_read == 1 and third.history.commits_from_cache == 2 and len(patches) == 2


def test_the_history_scan_says_how_many_added_lines_and_bytes_it_scanned(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "repo")
    repo.commit("init", {"app/client.py": CLEAN})  # 3 lines, 45 bytes
    repo.commit("more", {"app/client.py": CLEAN + "TIMEOUT_S = 5\n", "node_modules/x.js": "y = 2\n"})  # +1, 14 bytes
    result = history_scan(repo.root)
    assert (result.history.commits, result.history.added_lines, result.history.added_bytes) == (2, 4, 59)
    shown = result.evidence()["history"]
    assert (shown["added_lines_scanned"], shown["added_bytes_scanned"]) == (4, 59)


def test_a_cache_entry_without_the_sizes_is_read_again(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "repo")
    repo.commit("init", {"app/client.py": CLEAN})
    cache = ScanCache(tmp_path / "cache")
    history_scan(repo.root, cache=cache)
    for entry in (tmp_path / "cache").rglob("*.json"):  # as an older version wrote it
        stored = json.loads(entry.read_text())
        if isinstance(stored, dict):  # a commit's entry (a file's is a list)
            entry.write_text(json.dumps({k: v for k, v in stored.items() if not k.startswith("added_")}))
    again = history_scan(repo.root, cache=cache)
    assert again.history.commits_read == 1 and again.history.added_lines == 3


def test_the_baseline_and_the_inline_allow_list_accept_history_findings(tmp_path: Path) -> None:
    repo = Repo(tmp_path)
    repo.commit("fixture", {"app/fake.ts": f"const k = '{key('fake')}';  // pragma: allowlist secret\n"})
    repo.commit("pair", {"app/client.ts": leaked("reviewed")})
    repo.commit("gone", {"app/client.ts": None, "app/fake.ts": None})
    result = history_scan(tmp_path)
    assert len(result.history_findings) == 2  # the allow-listed line is not among them
    baseline = tmp_path / ".secrets.baseline"
    assert write_baseline(result, baseline, cwd=tmp_path) == 2
    assert secret("reviewed") not in baseline.read_text()
    again = history_scan(tmp_path, baseline=baseline)
    assert again.history_findings == [] and len(again.history_accepted) == 2


def test_only_the_scanned_folders_history_and_not_the_excluded_folders(tmp_path: Path) -> None:
    repo = Repo(tmp_path)
    repo.commit("pairs", {
        "app/client.ts": leaked("app"),
        "tools/old.ts": leaked("tools"),
        "app/node_modules/dep/index.js": leaked("vendored"),
        "app/fixtures/x.ts": leaked("fixture"),
    })  # fmt: skip
    repo.commit("gone", {"app/client.ts": CLEAN, "tools/old.ts": None})
    result = scan(["app"], cwd=tmp_path, cache=ScanCache(None), history_depth=10, exclude=["fixtures/**"])
    assert {f.file for f in result.history_findings} == {"app/client.ts"}


def test_odd_file_names_are_read_back_exactly(tmp_path: Path) -> None:
    repo = Repo(tmp_path)
    name = 'app/ünïcode dir/my "client".ts'
    added = repo.commit("pair", {name: leaked("odd")})
    repo.commit("gone", {name: None, "README.md": "x\n"})
    assert {(f.commit, f.file) for f in history_scan(tmp_path).history_findings} == {(added[:7], name)}


def test_an_added_line_that_looks_like_a_patch_header_is_content(tmp_path: Path) -> None:
    repo = Repo(tmp_path)
    repo.commit("init", {"notes.md": "start\n"})
    added = repo.commit("tricky", {"notes.md": f"start\n++ b/elsewhere\n+++ b/other.ts\n{key('tricky')}\n"})
    repo.commit("gone", {"notes.md": "start\n"})
    assert [(f.commit, f.file, f.line) for f in history_scan(tmp_path).history_findings] == [(added[:7], "notes.md", 4)]


def test_no_repository_or_no_git_means_no_history_scan_without_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "app.py").write_text(CLEAN)
    assert history_scan(tmp_path).evidence()["history"] == {"status": "not a git repository"}
    Repo(tmp_path / "repo").commit("init", {"app.py": CLEAN})
    monkeypatch.setattr(gitlog.shutil, "which", lambda name: None)
    result = history_scan(tmp_path / "repo")
    assert result.evidence()["history"] == {"status": "git is not installed (not on PATH)"}
    assert result.files_scanned == 1


def test_a_repository_without_commits_and_a_shallow_clone(tmp_path: Path) -> None:
    empty = Repo(tmp_path / "empty")
    (empty.root / "app.py").write_text(CLEAN)
    assert history_scan(empty.root).history.commits == 0
    origin = Repo(tmp_path / "origin")
    origin.commit("pair", {"app/client.ts": leaked("shallow")})
    origin.commit("gone", {"app/client.ts": CLEAN})
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{origin.root}", str(tmp_path / "clone")],
        check=True, capture_output=True, env=origin.env(),
    )  # fmt: skip
    result = history_scan(tmp_path / "clone")
    assert result.history.shallow and result.history.commits == 1 and result.history_findings == []
    assert result.evidence()["history"]["shallow_clone"] is True


def test_a_broken_repository_is_a_reason_not_an_error(tmp_path: Path) -> None:
    repo = Repo(tmp_path)
    repo.commit("init", {"app.py": CLEAN})
    (tmp_path / ".git" / "HEAD").write_text("garbage\n")  # git no longer sees a repository here
    result = history_scan(tmp_path)
    assert result.evidence()["history"] == {"status": "not a git repository"} and result.files_scanned == 1


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("bluum:\n  base_url: https://x/v1\n  api_secret:\n    {hex}\n", 4),  # the name's line, the value below
        ("bluum:\n  apiSecret: >-\n    {hex}\n", 3),  # a block scalar under the bluum key
        ("bluum:\n  secret: |\n    {hex}\n", 3),
        ("integrations:\n  bluum:\n    credentials:\n      secret:\n        {hex}\n", 5),  # a deeper ancestor
        ("creds:\n  api_key: test_bluum_{hex2}\n  api_secret:\n    {hex}\n", 4),  # next to the pair's key
        ("env:\n  - name: BLUUM_API_SECRET\n    value: {hex}\n", 3),  # Kubernetes' env list, unquoted
        ("env:\n  - name: BLUUM_API_SECRET\n    value:\n      {hex}\n", 4),
        ("env:\n  - value: {hex}\n    name: BLUUM_API_SECRET\n", 2),
    ],
)
def test_a_yaml_secret_on_the_line_below_its_name_is_found_in_history(tmp_path: Path, text: str, line: int) -> None:
    # history reads lines as written (no YAML parsing): unquoted values are the Bluum rule's alone to find
    repo = Repo(tmp_path / "repo")
    hex_secret = secret(text)
    repo.commit("add", {"deploy/values.yaml": text.format(hex=hex_secret, hex2=secret("key " + text))})
    added = repo.git("rev-parse", "--short=7", "HEAD")
    repo.commit("remove", {"deploy/values.yaml": None})
    result = history_scan(repo.root)
    assert [str(f) for f in result.history_findings if f.line == line] == [
        f"deploy/values.yaml:{line} in commit {added}: Bluum API secret"
    ]
    assert hex_secret not in everything_shown(result)


@pytest.mark.parametrize(
    "text",
    [
        "bluum:\n  release_sha256:\n    {hex}\n",  # names no secret
        "checksums:\n  secret:\n    {hex}\n",  # names a secret, but nothing Bluum around it
        "env:\n  - name: BLUUM_BUILD_DIGEST\n    value: {hex}\n",
        "env:\n  - name: BLUUM_API_SECRET\n    valueFrom: {{secretKeyRef: {{name: bluum, key: secret}}}}\n"
        "  - name: RELEASE_SHA\n    value: {hex}\n",  # the next item's value
    ],
)
def test_a_yaml_digest_near_a_bluum_name_is_not_a_secret_in_history(tmp_path: Path, text: str) -> None:
    repo = Repo(tmp_path / "repo")
    repo.commit("add", {"deploy/values.yaml": text.format(hex=secret(text))})
    repo.commit("remove", {"deploy/values.yaml": None})
    assert history_scan(repo.root).history_findings == []


# -- a read that fails or stops early is never taken for the whole history -------------------------------------


def _leak_then_gone(repo: Repo) -> str:
    """init, a leaked pair, its removal, later work: the leak's commit id."""
    repo.commit("init", {"app/client.py": CLEAN})
    added = repo.commit("fallback pair", {"app/leak.ts": leaked("missing")})
    repo.commit("gone", {"app/leak.ts": None})
    repo.commit("later", {"app/util.py": "def add(a, b):\n    return a + b\n"})
    return added


def _delete_object(repo: Repo, revision: str) -> None:
    object_id = repo.git("rev-parse", revision)
    (repo.root / ".git" / "objects" / object_id[:2] / object_id[2:]).unlink()


def test_a_missing_object_stops_the_read_and_the_history_is_not_judged_nor_cached(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "repo")
    added = _leak_then_gone(repo)
    _delete_object(repo, f"{added}:app/leak.ts")  # the leaked file's content: `git log -p` stops at that commit
    cache = ScanCache(tmp_path / "cache")
    for _ in range(2):  # and again from the cache: what was read is kept, the whole is never taken as read
        result = history_scan(repo.root, cache=cache)
        history = result.history
        assert history.ran and not history.complete and result.history_findings == []
        assert history.commits == 4 and history.commits_judged == 2  # the two newest, read before git stopped
        assert history.not_judged is not None and "read only in part (2 of the 4 commits listed judged)" in (
            history.not_judged
        )
        assert "git log failed: fatal: unable to read" in history.not_judged
        assert "commits to read were not read" in history.not_judged
        shown = result.evidence()["history"]
        assert shown["complete"] is False and shown["incomplete"] == history.incomplete


def test_a_missing_commit_stops_the_commit_list_and_the_history_is_not_judged(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "repo")
    added = _leak_then_gone(repo)
    _delete_object(repo, added)  # the commit itself: git cannot walk past it
    result = history_scan(repo.root)
    assert not result.history.complete and result.history_findings == []
    assert result.history.not_judged is not None and "git rev-list failed" in result.history.not_judged


def test_a_shallow_clone_is_read_but_not_judged_as_the_whole_history(tmp_path: Path) -> None:
    origin = Repo(tmp_path / "origin")
    _leak_then_gone(origin)
    clone = tmp_path / "clone"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "2", f"file://{origin.root}", str(clone)],
        check=True, capture_output=True, env=origin.env(),
    )  # fmt: skip
    result = history_scan(clone)
    assert result.history.shallow and result.history.commits == 2 and result.history.commits_judged == 2
    assert not result.history.complete and result.history_findings == []
    assert result.history.not_judged is not None and "is a shallow clone" in result.history.not_judged
    assert "git fetch --unshallow" in result.history.not_judged


def test_a_read_past_its_time_stops_and_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = Repo(tmp_path / "repo")
    _leak_then_gone(repo)
    monkeypatch.setattr(gitlog, "LOG_TIMEOUT_S", 0.0)
    cache = ScanCache(tmp_path / "cache")
    result = history_scan(repo.root, cache=cache)
    assert not result.history.complete and result.history.commits_read == 0
    assert result.history.not_judged is not None and "git log took longer than 0 s" in result.history.not_judged
    monkeypatch.setattr(gitlog, "LOG_TIMEOUT_S", 600.0)
    again = history_scan(repo.root, cache=cache)  # nothing of the stopped read was cached
    assert again.history.complete and again.history.commits_read == 4 and len(again.history_findings) == 2


def test_a_folder_without_git_has_no_history_to_judge(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(CLEAN)
    result = history_scan(tmp_path)
    assert not result.history.complete
    assert result.history.not_judged is not None and result.history.not_judged.startswith("no git history here")


def test_another_out_folder_hits_the_cache_and_its_files_are_not_scanned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = Repo(tmp_path / "repo")
    added = _leak_then_gone(repo)
    monkeypatch.setenv("BLUUM_READINESS_CACHE_DIR", str(tmp_path / "cache"))
    first = scan_configured(RunConfig(out="out-a"), cwd=repo.root)
    assert first.history.commits_read == 4 and {f.commit for f in first.history_findings} == {added[:7]}
    (repo.root / "out-b").mkdir()
    (repo.root / "out-b" / "partial.json").write_text(f'{{"key": "{key("report")}"}}\n')  # the tool's own output
    again = scan_configured(RunConfig(out=str(repo.root / "out-b")), cwd=repo.root)
    assert again.history.commits_read == 0 and again.history.commits_from_cache == 4
    assert [str(f) for f in again.history_findings] == [str(f) for f in first.history_findings]
    assert again.findings == [] and again.files_scanned == first.files_scanned


def test_a_committed_report_folder_is_evidence_not_code_but_a_secret_beside_it_is_found(tmp_path: Path) -> None:
    # a team keeps its evidence in git: the record's own SHA-256 digest is a high-entropy hex string
    def record(run: str) -> str:
        return json.dumps({"digest": {"algorithm": "sha256", "value": hashlib.sha256(run.encode()).hexdigest()}})

    def attachment(run: str) -> str:  # an exchange record in allure-results: a body digest beside the key id
        digest = hashlib.sha256(run.encode()).hexdigest()
        return f'{{\n  "key": "{key(run)[:17]}…",\n  "body_sha256": "{digest}"\n}}\n'

    repo = Repo(tmp_path)
    repo.commit("init", {"app/client.ts": CLEAN})
    for run in ("first", "second"):  # each run rewrites the record and its log
        repo.commit(f"{run} evidence", {"sandbox-out/readiness.json": record(run), "sandbox-out/pytest.log": run})
    combined = {  # `report --combine --out combined-out`: no pytest.log
        "combined-out/readiness.json": record("combined"), "combined-out/junit.xml": "<testsuites/>\n",
        "combined-out/allure-results/1-attachment.json": attachment("combined"),
    }  # fmt: skip
    repo.commit("combined", combined)
    repo.commit("combined elsewhere now", dict.fromkeys(combined))  # in history only
    leaking = repo.commit("a pair under the same name elsewhere", {"notes/readiness.json": leaked("two")})
    repo.commit("removed", {"notes/readiness.json": None})
    result = history_scan(tmp_path)
    assert [str(f) for f in result.findings] == []  # the report folders still in the tree: skipped as well
    found = [str(f) for f in result.history_findings]
    assert found == [
        f"notes/readiness.json:2 in commit {leaking[:7]}: Bluum sandbox API key",
        f"notes/readiness.json:4 in commit {leaking[:7]}: Bluum API secret",
    ]
    # the same record alone, outside a report folder, is what the rule excuses: the digest is found
    plain = Repo(tmp_path / "plain")
    plain.commit("a digest", {"data/readiness.json": record("first")})
    assert [f.rule for f in history_scan(tmp_path / "plain").findings] == ["Hex High Entropy String"]
