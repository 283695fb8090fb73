"""The history half of the secret scan: the lines added by every commit HEAD reaches, through the same rules as
the files (detect-secrets' plugins, the Bluum plugins, the filters), in memory — no secret is written anywhere.

A key removed from the files is still in every clone: it has to be rotated, so history is where the scan matters
most. Bounded: at most ``depth`` commits (newest first) and ``max_bytes`` of patch text a run; a file's added text
over ``max_file_bytes`` in one commit is skipped and listed. Cached by commit id (commits are immutable), keyed also
by the rules' version and the settings that choose the files, so a repeat run only asks git for the commit list.

A read that fails or stops early — a missing object, a shallow clone, a git error, a timeout, the byte bound — is
recorded in ``HistoryResult.incomplete``: what was read is judged (and each commit read in full cached), but the
history as a whole is not (``HistoryResult.not_judged`` says why), so the check is not verifiable, never a pass.

Only what ``[scan] paths`` covers is read (as git pathspecs), minus the same excludes as the files and the
baseline's ``--exclude-files`` patterns. ``scan_history`` returns one ``Occurrence`` per (commit, file, line,
secret); ``scan.py`` applies the baseline and folds them into what is reported.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bluum_readiness.credentials.gitlog import CommitPatch, FilePatch, PatchReader, Repository, repository
from bluum_readiness.credentials.scan_cache import CommitHits, ScanCache

__all__ = ["SHORT_ID", "HistoryResult", "Occurrence", "scan_history"]

SHORT_ID = 7
# for each (file name, lines numbered from 1, the numbers to report): (line, rule, hashed secret), one per line and
# secret
LineScanner = Callable[[list[tuple[str, list[tuple[int, str]], set[int]]]], list[list[tuple[int, str, str]]]]
_BATCH_LINES = 50_000  # the patch lines scanned together (one prefilter search): bounds what is held at once
Excluded = Callable[[Path], bool]  # an absolute path the scan leaves out


@dataclass(frozen=True)
class Occurrence:
    """One secret added by one commit: ``order`` is the commit's place in the scan (0 = HEAD, larger = older)."""

    order: int
    commit: str
    path: Path  # absolute (the repository's top folder + the path in the commit)
    line: int
    rule: str
    hashed_secret: str = field(repr=False)


@dataclass
class HistoryResult:
    """What the history scan looked at. ``status`` is ``scanned``, ``off`` or why it did not run."""

    status: str
    depth: int = 0
    repositories: list[str] = field(default_factory=list)
    commits: int = 0
    commits_from_cache: int = 0
    commits_read: int = 0
    more_than_depth: bool = False
    shallow: bool = False
    commits_left_by_byte_bound: int = 0
    errors: list[str] = field(default_factory=list)
    incomplete: list[str] = field(default_factory=list)  # why the read stopped before the whole history
    skipped_too_large: list[str] = field(default_factory=list)
    skipped_binary: int = 0
    added_lines: int = 0  # the lines the judged commits added that went through the rules
    added_bytes: int = 0  # their size (UTF-8, a newline each)
    occurrences: list[Occurrence] = field(default_factory=list)

    @property
    def ran(self) -> bool:
        return self.status == "scanned"

    @property
    def commits_judged(self) -> int:
        return self.commits_from_cache + self.commits_read

    @property
    def complete(self) -> bool:
        """Whether every commit the scan covers was read in full (a history that is judged as a whole)."""
        return self.ran and not self.incomplete

    @property
    def not_judged(self) -> str | None:
        """Why the history cannot be judged as a whole (None when it can): what was read and why it stopped."""
        if self.status == "off":
            return "the git history was not scanned ([scan] history = false; set history = true to judge it)"
        if self.status == "not a git repository":
            return "no git history here (not a git repository): the history a clone carries cannot be judged"
        if not self.ran:
            return f"the git history was not read: {self.status}"
        if self.incomplete:
            return (
                f"the git history was read only in part ({self.commits_judged} of the {self.commits} commits listed "
                f"judged): {'; '.join(self.incomplete)}"
            )
        return None

    def evidence(self, limit: int = 50) -> dict[str, Any]:
        if not self.ran:
            return {"status": self.status}
        return {
            "status": self.status,
            "complete": self.complete,
            "incomplete": self.incomplete,
            "repositories": self.repositories,
            "depth": self.depth,
            "commits_scanned": self.commits,
            "commits_from_cache": self.commits_from_cache,
            "commits_read_from_git": self.commits_read,
            "more_commits_than_depth": self.more_than_depth,
            "shallow_clone": self.shallow,
            "commits_left_by_byte_bound": self.commits_left_by_byte_bound,
            "added_lines_scanned": self.added_lines,
            "added_bytes_scanned": self.added_bytes,
            "errors": self.errors,
            "skipped_too_large": self.skipped_too_large[:limit],
            "skipped_binary": self.skipped_binary,
        }


@dataclass(frozen=True)
class _Scope:
    """What one repository's history scan covers: pathspecs, and how file paths are judged."""

    repo: Repository
    pathspecs: tuple[str, ...]
    roots: tuple[Path, ...]

    judged: dict[str, bool] = field(default_factory=dict, compare=False, hash=False)

    def covers(self, path: Path) -> bool:
        return any(path == root or root in path.parents for root in self.roots)

    def in_scope(self, name: str, excluded: Excluded) -> bool:
        """Whether the file ``name`` (a path in a commit) is scanned: under a scanned folder, not excluded (judged
        once per path: a file changes in many commits)."""
        verdict = self.judged.get(name)
        if verdict is None:
            absolute = self.repo.top / name
            verdict = self.judged[name] = self.covers(absolute.resolve()) and not excluded(absolute)
        return verdict


def _scopes(roots: Sequence[Path], result: HistoryResult) -> list[_Scope]:
    """The repositories the scanned folders are in, each with the pathspecs of the folders inside it."""
    by_top: dict[Path, tuple[Repository, list[Path]]] = {}
    reasons: list[str] = []
    for root in roots:
        found = repository(root)
        if isinstance(found, str):
            reasons.append(found)
            continue
        top = found.top.resolve()
        by_top.setdefault(top, (found, []))[1].append(root.resolve())
    if not by_top:
        result.status = reasons[0] if reasons else "nothing to scan"
        return []
    scopes = []
    for top, (repo, inside) in by_top.items():
        relative = sorted({r.relative_to(top).as_posix() for r in inside if r == top or top in r.parents})
        pathspecs = () if "." in relative else tuple(f":(top,literal){r}" for r in relative)
        scopes.append(_Scope(repo, pathspecs, tuple(inside)))
    return scopes


def _fragment(file: FilePatch) -> tuple[list[tuple[int, str]], dict[int, int]]:
    """The hunks' lines numbered from 1 (a blank line between hunks, so no snippet joins two), and which of those
    numbers are added lines, mapped to their line number in the file."""
    numbered: list[tuple[int, str]] = []
    added: dict[int, int] = {}
    previous: int | None = None
    for number, text, is_added in file.lines:
        if previous is not None and number != previous + 1:
            numbered.append((len(numbered) + 1, ""))
        numbered.append((len(numbered) + 1, text))
        if is_added:
            added[len(numbered)] = number
        previous = number
    return numbered, added


REPORT_FILES = frozenset({"readiness.json", "readiness.html", "readiness.md", "readiness.pdf"})
REPORT_OUTPUTS = REPORT_FILES | {"junit.xml", "allure-results", "pytest.log", "email.eml", "email.txt"}
"""What ``bluum-readiness run``, ``report`` and ``report --combine`` write into their ``--out`` folder."""


def is_report_folder(names: Iterable[str]) -> bool:
    """Whether a folder holding ``names`` is one bluum-readiness wrote — a run's, a re-render's or a combination's
    ``--out``: one of its records or reports (``readiness.json``, ``.html``, ``.md``, ``.pdf``) and at least one more
    of its outputs. Evidence, already scrubbed of secrets, not the team's code or config: the secret scan skips it
    (its exchange records hold SHA-256 digests next to key ids, the shape of a secret next to its name)."""
    present = REPORT_OUTPUTS.intersection(names)
    return bool(present & REPORT_FILES) and len(present) >= 2


def _report_folders(patch: CommitPatch) -> set[str]:
    """The report folders (``is_report_folder``) among the folders whose entries the commit adds or changes, the
    repository's top excepted: a folder whose report files the commit writes, as a run writes them together."""
    touched: dict[str, set[str]] = {}
    for file in patch.files:
        parts = file.path.split("/")
        for depth in range(1, len(parts)):
            touched.setdefault("/".join(parts[:depth]), set()).add(parts[depth])
    return {folder for folder, names in touched.items() if is_report_folder(names)}


def _in_report_folder(path: str, reports: set[str]) -> bool:
    parts = path.split("/")
    return any("/".join(parts[:depth]) in reports for depth in range(1, len(parts)))


def _scan_commits(
    patches: Sequence[CommitPatch],
    scope: _Scope,
    *,
    excluded: Excluded,
    max_file_bytes: int,
    scan_lines: LineScanner,
    skip_file: Callable[[str], bool],
) -> dict[str, CommitHits]:
    """Each commit's result; the added lines of all of them go through the rules in one ``scan_lines`` call."""
    texts: list[tuple[str, list[tuple[int, str]], set[int]]] = []
    owners: list[tuple[str, dict[int, int]]] = []  # per text: its commit, and its numbers' lines in the file
    results: dict[str, CommitHits] = {}
    for patch in patches:
        result = results[patch.commit] = CommitHits([], [], 0, 0, 0)
        reports = _report_folders(patch)
        for file in patch.files:
            if not scope.in_scope(file.path, excluded) or _in_report_folder(file.path, reports):
                continue
            if file.binary:
                results[patch.commit] = result = result._replace(skipped_binary=result.skipped_binary + 1)
                continue
            if not file.lines or skip_file(file.path):
                continue
            if file.added_bytes > max_file_bytes:
                result.skipped_large.append(file.path)
                continue
            numbered, added = _fragment(file)
            texts.append((file.path, numbered, set(added)))
            owners.append((patch.commit, added))
            results[patch.commit] = result = result._replace(
                added_lines=result.added_lines + len(added), added_bytes=result.added_bytes + file.added_bytes
            )
    found_in = scan_lines(texts) if texts else []
    for (name, _, _), (commit, added), found in zip(texts, owners, found_in, strict=True):
        results[commit].hits.extend((name, added[line], rule, hashed) for line, rule, hashed in found if line in added)
    return results


def _batches(patches: Iterable[CommitPatch]) -> Iterator[list[CommitPatch]]:
    """The patches in groups of about ``_BATCH_LINES`` lines."""
    batch: list[CommitPatch] = []
    size = 0
    for patch in patches:
        batch.append(patch)
        size += sum(len(file.lines) for file in patch.files)
        if size >= _BATCH_LINES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def settings_digest(scope: _Scope, patterns: Sequence[str], max_file_bytes: int, excludes: Sequence[str]) -> str:
    """What, besides the rules and the commit, decides a commit's result (part of its cache key)."""
    chosen = {"pathspecs": list(scope.pathspecs), "patterns": list(patterns), "max_file_bytes": max_file_bytes,
              "baseline_excludes": list(excludes), "top": str(scope.repo.top.resolve())}  # fmt: skip
    return hashlib.sha256(json.dumps(chosen, sort_keys=True).encode()).hexdigest()


def scan_history(
    roots: Sequence[Path],
    *,
    depth: int,
    max_bytes: int,
    max_file_bytes: int,
    patterns: Sequence[str],
    baseline_excludes: Sequence[str],
    excluded: Excluded,
    cache: ScanCache,
    scan_lines: LineScanner,
    skip_file: Callable[[str], bool],
) -> HistoryResult:
    """Scan the history HEAD reaches in the repositories ``roots`` are in (see the module docstring).

    :param patterns: the exclude globs (for the cache key; ``excluded`` applies them with the baseline's).
    :param baseline_excludes: the baseline's ``--exclude-files`` patterns (for the cache key).
    :param scan_lines: detect-secrets over numbered lines of a file (``scan._DetectSecrets.scan_lines``).
    :param skip_file: detect-secrets' file-name heuristics (non-text, lock files…).
    """
    result = HistoryResult("scanned", depth=depth)
    scopes = _scopes(roots, result)
    budget = max_bytes
    for scope in scopes:
        result.repositories.append(str(scope.repo.top))
        result.shallow = result.shallow or scope.repo.shallow
        if scope.repo.shallow:
            result.incomplete.append(
                f"{scope.repo.top} is a shallow clone: the commits before its oldest one are not in it (fetch them: "
                "`git fetch --unshallow`, or `fetch-depth: 0` in CI)"
            )
        listed = scope.repo.commits(depth)
        commits, more = listed.ids, listed.more
        if listed.error is not None:
            result.errors.append(listed.error)
            result.incomplete.append(f"{listed.error} (after listing {len(commits)} commits)")
        result.more_than_depth = result.more_than_depth or more
        result.commits += len(commits)
        digest = settings_digest(scope, patterns, max_file_bytes, baseline_excludes)
        known: dict[str, CommitHits] = {}
        for commit in commits:
            entry = cache.get_commit(cache.commit_key(commit, digest))
            if entry is not None:
                known[commit] = entry
        result.commits_from_cache += len(known)
        missing = [c for c in commits if c not in known]
        if missing:
            reader = PatchReader(scope.repo, missing, scope.pathspecs, budget)
            for batch in _batches(reader):
                known.update(_scan_commits(
                    batch, scope, excluded=excluded, max_file_bytes=max_file_bytes, scan_lines=scan_lines,
                    skip_file=skip_file,
                ))  # fmt: skip
            budget = max(budget - reader.bytes_read, 0)
            done = set(reader.complete)
            if reader.error is not None:
                result.errors.append(reader.error)
                result.incomplete.append(
                    f"{reader.error} ({len(missing) - len(done)} of {len(missing)} commits to read were not read)"
                )
            result.commits_read += len(done)
            if reader.truncated:
                left = len(missing) - len(done)
                result.commits_left_by_byte_bound += left
                result.incomplete.append(
                    f"[scan] history_max_mb ({max_bytes / 1024 / 1024:g} MB of patches a run) was reached with {left} "
                    "commits left to read: the next run goes on from there (or raise history_max_mb)"
                )
            for commit in missing:
                if commit in done:
                    known.setdefault(commit, CommitHits([], [], 0))  # printed nothing: added no line in scope
                    cache.put_commit(cache.commit_key(commit, digest), known[commit])
                else:
                    known.pop(commit, None)  # read in part or not at all: not judged, not cached
        for order, commit in enumerate(commits):
            if commit not in known:
                continue
            hits, large, binary, lines, size = known[commit]
            result.skipped_too_large += [f"{commit[:SHORT_ID]}:{name}" for name in large]
            result.skipped_binary += binary
            result.added_lines += lines
            result.added_bytes += size
            result.occurrences += [
                Occurrence(order, commit, scope.repo.top / name, line, rule, hashed)
                for name, line, rule, hashed in hits
            ]
    if result.errors and not result.commits_read and not result.commits_from_cache:
        result.status = f"git could not read the history: {result.errors[0]}"
    return result
