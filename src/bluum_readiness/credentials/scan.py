"""The secret scan of the ``credentials`` item: detect-secrets' standard plugins plus the Bluum rules
(``plugins.py``) and the label filter (``filters.py``) over the files the config names and, in a git repository,
the lines added by the commits HEAD reaches (``history.py``), minus what a baseline or an inline allow-list accepts.

What is scanned: every file under ``[scan] paths`` (default: the current directory), except

- built-in excludes (``.git``, ``.venv``/``venv`` and any folder holding a ``pyvenv.cfg``, ``node_modules``,
  caches, ``dist``/``build``, ``readiness-out``, the baseline itself…) and the config's ``exclude`` globs;
- in a git work tree, files git ignores (unless ``include_ignored``): they are not part of the code;
- files over ``max_file_kb`` and binary files (a NUL byte in the first 8 KiB): skipped and counted.

What is accepted: findings recorded in a detect-secrets baseline (``.secrets.baseline``: matched by file and
hashed secret, so moved lines stay accepted; entries audited as real secrets, ``"is_secret": true``, are not),
lines carrying detect-secrets' inline ``pragma: allowlist secret`` comment, and hashes the caller accepts (the
key id the config names). A keyword match whose value is a label (an environment variable's name, a storage key,
a header name: ``filters.py``) is not a finding. A ``Finding`` gives file, line and rule — never the secret.

What is reported: one finding per file, line and secret (the most specific rule's name: ``Bluum API secret``
rather than ``Hex High Entropy String``). History findings (``HistoryFinding``) name the commit, file and line
where a secret was first added, with how many later commits added it again; a secret still in the files is
reported there once, marked as committed (``Finding.committed_in``), not again from history.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fnmatch
import functools
import hashlib
import importlib.util
import json
import os
import re
import shlex
import subprocess
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bluum_readiness.credentials import gitlog
from bluum_readiness.credentials.history import (
    REPORT_FILES,
    SHORT_ID,
    HistoryResult,
    Occurrence,
    is_report_folder,
    scan_history,
)
from bluum_readiness.credentials.prefilter import Prefilter
from bluum_readiness.credentials.scan_cache import ScanCache
from bluum_readiness.errors import ConfigError

if TYPE_CHECKING:
    from bluum_readiness.config import RunConfig

__all__ = [
    "BASELINE_FILE",
    "DEFAULT_EXCLUDES",
    "Baseline",
    "Finding",
    "HistoryFinding",
    "ScanResult",
    "hash_secret",
    "load_baseline",
    "prefetch_scan",
    "scan",
    "scan_configured",
    "scan_configured_ahead",
    "write_baseline",
]

BASELINE_FILE = ".secrets.baseline"
DEFAULT_EXCLUDES = (
    ".git", ".hg", ".svn", ".venv", "venv", "node_modules", "__pycache__", ".mypy_cache", ".pytest_cache",
    ".ruff_cache", ".tox", ".nox", ".hypothesis", ".idea", ".vscode", "*.egg-info", "dist", "build",
    "readiness-out", BASELINE_FILE,
)  # fmt: skip
PLUGINS_FILE = Path(__file__).with_name("plugins.py")
FILTERS_FILE = Path(__file__).with_name("filters.py")
CUSTOM_FILTERS = ("is_label_not_secret", "is_bluum_id", "is_labelled_digest", "is_indirect_reference_of_a_keyword")
REPLACED_FILTERS = ("detect_secrets.filters.heuristic.is_indirect_reference",)  # by ours, limited to keywords
CUSTOM_PLUGINS = (
    "BluumSandboxKeyDetector",
    "BluumSecretDetector",
    "BasicAuthorizationDetector",
    "WebhookSecretDetector",
)
_BINARY_PROBE = 8192
_GENERIC_RULES = {"Secret Keyword": 1, "Base64 High Entropy String": 2, "Hex High Entropy String": 2}
_LOCK = threading.Lock()  # detect-secrets keeps its settings in module globals
_FILES_AT_ONCE = 128  # files whose first reading goes through the prefilter together


def hash_secret(secret: str) -> str:
    """The SHA-1 hex digest detect-secrets records for a secret (``hashed_secret`` in a baseline)."""
    return hashlib.sha1(secret.encode("utf-8")).hexdigest()  # noqa: S324 - detect-secrets' baseline format


@dataclass(frozen=True, order=True)
class Finding:
    """A potential secret: where it is and which rule found it. Never the secret itself.

    :param file: the path as given (relative to the current directory when below it).
    :param hashed_secret: SHA-1 of the secret, as a baseline records it (for matching; kept out of reports).
    """

    file: str
    line: int
    rule: str
    hashed_secret: str = field(repr=False)
    committed_in: str | None = field(default=None, compare=False)  # the oldest commit (short id) that added it

    def __str__(self) -> str:
        committed = f" (committed: in git history since {self.committed_in})" if self.committed_in else ""
        return f"{self.file}:{self.line}: {self.rule}{committed}"

    def to_dict(self) -> dict[str, Any]:
        shown: dict[str, Any] = {"file": self.file, "line": self.line, "rule": self.rule}
        if self.committed_in:
            shown["in_history_since"] = self.committed_in
        return shown


@dataclass(frozen=True, order=True)
class HistoryFinding:
    """A secret in git history, no longer in the files: the commit (short id), file and line where it was first
    added (the oldest of the scanned commits), and how many later commits added it again. Never the secret.

    :param file: the path in that commit, shown like a file's (relative to the current directory when below it).
    """

    commit: str
    file: str
    line: int
    rule: str
    hashed_secret: str = field(repr=False)
    later_commits: int = field(default=0, compare=False)

    def __str__(self) -> str:
        again = f" (and {self.later_commits} later commit{'s' * (self.later_commits != 1)})"
        return f"{self.file}:{self.line} in commit {self.commit}{again if self.later_commits else ''}: {self.rule}"

    def to_dict(self) -> dict[str, Any]:
        return {"commit": self.commit, "file": self.file, "line": self.line, "rule": self.rule,
                "later_commits": self.later_commits}  # fmt: skip


@dataclass
class ScanResult:
    """What one scan found and what it looked at."""

    findings: list[Finding]
    accepted: list[Finding]
    files_scanned: int
    skipped_large: list[str]
    skipped_binary: int
    paths: tuple[str, ...]
    baseline: str | None
    history: HistoryResult = field(default_factory=lambda: HistoryResult("off"))
    history_findings: list[HistoryFinding] = field(default_factory=list)
    history_accepted: list[HistoryFinding] = field(default_factory=list)
    bytes_scanned: int = 0  # the size of the files scanned (their lines went through the rules)
    lines_scanned: int = 0

    @property
    def committed(self) -> bool:
        """Whether any finding is in git history (so anyone with a clone has it: rotate)."""
        return bool(self.history_findings) or any(f.committed_in for f in self.findings)

    def evidence(self, limit: int = 50) -> dict[str, Any]:
        """JSON-ready, for the report: findings (file, line, rule; commit for history), counts, what was skipped."""
        history = self.history.evidence(limit)
        if self.history.ran:
            history |= {
                "findings": [f.to_dict() for f in self.history_findings[:limit]],
                "findings_total": len(self.history_findings),
                "accepted_by_baseline_or_allowlist": len(self.history_accepted),
                "also_in_the_files": sum(1 for f in self.findings if f.committed_in),
            }
        return {
            "paths": list(self.paths),
            "baseline": self.baseline,
            "files_scanned": self.files_scanned,
            "lines_scanned": self.lines_scanned,
            "bytes_scanned": self.bytes_scanned,
            "findings": [f.to_dict() for f in self.findings[:limit]],
            "findings_total": len(self.findings),
            "accepted_by_baseline_or_allowlist": len(self.accepted),
            "skipped_too_large": self.skipped_large[:limit],
            "skipped_binary": self.skipped_binary,
            "history": history,
        }


# -- the files to scan ------------------------------------------------------------------------------------


def _excluded(relative: str, patterns: Iterable[str]) -> bool:
    """Whether the path or one of its parts matches a glob of ``patterns`` (``fnmatch``)."""
    matches = _globs(tuple(patterns))
    return bool(matches(relative)) or any(matches(part) for part in relative.split("/"))


@functools.lru_cache(maxsize=16)
def _globs(patterns: tuple[str, ...]) -> Callable[[str], re.Match[str] | None]:
    """One regular expression for all the globs (fnmatch's translation of each)."""
    return re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns) or "(?!)").match


def _git_visible(folder: Path) -> set[str] | None:
    """Files under ``folder`` git does not ignore (tracked or not), relative to it; None outside a work tree."""
    try:
        done = subprocess.run(
            ["git", "-C", str(folder), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            capture_output=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    return {name for name in done.stdout.decode("utf-8", "surrogateescape").split("\0") if name}


def _walk(folder: Path, patterns: tuple[str, ...], include_ignored: bool, skip: frozenset[Path]) -> Iterator[Path]:
    visible = None if include_ignored else _git_visible(folder)
    for root, dirs, files in os.walk(folder):
        here = Path(root)
        rel_root = here.relative_to(folder).as_posix()
        dirs[:] = sorted(
            d
            for d in dirs
            if not _excluded(d if rel_root == "." else f"{rel_root}/{d}", patterns)
            and not (here / d / "pyvenv.cfg").exists()
            and not _is_report_folder(here / d)
            and not (here / d).is_symlink()
            and (here / d).resolve() not in skip
        )
        for name in sorted(files):
            relative = name if rel_root == "." else f"{rel_root}/{name}"
            if _excluded(relative, patterns) or (visible is not None and relative not in visible):
                continue
            path = here / name
            if path.is_file() and not path.is_symlink():
                yield path


def _is_report_folder(folder: Path) -> bool:
    """A folder bluum-readiness wrote (any ``--out`` of ``run``, ``report`` or ``report --combine``): evidence, not
    the team's code or config (``history.is_report_folder``)."""
    if not any((folder / name).is_file() for name in REPORT_FILES):  # a few stats before listing the folder
        return False
    try:
        return is_report_folder(os.listdir(folder))
    except OSError:
        return False


def _files(
    paths: Iterable[Path], patterns: tuple[str, ...], include_ignored: bool, skip: frozenset[Path] = frozenset()
) -> Iterator[Path]:
    seen: set[Path] = set()
    for path in paths:
        found = [path] if path.is_file() else _walk(path, patterns, include_ignored, skip)
        for file in found:
            resolved = file.resolve()
            if resolved not in seen:
                seen.add(resolved)
                yield file


def _is_binary(data: bytes) -> bool:
    return b"\0" in data[:_BINARY_PROBE]


def _display(path: Path, cwd: Path) -> str:
    try:
        return path.resolve().relative_to(cwd.resolve()).as_posix()
    except ValueError:
        return str(path)


# -- baselines --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Baseline:
    """A detect-secrets baseline: accepted (absolute file, hashed secret) pairs, and the file-exclusion
    regexes it records (``detect_secrets.filters.regex.should_exclude_files``, i.e. ``--exclude-files``),
    matched against paths relative to the baseline's folder."""

    path: Path
    accepted: frozenset[tuple[Path, str]]
    exclude_files: tuple[re.Pattern[str], ...]

    def excludes(self, file: Path) -> bool:
        try:
            relative = file.resolve().relative_to(self.path.parent.resolve()).as_posix()
        except ValueError:
            return False
        return any(pattern.search(relative) for pattern in self.exclude_files)

    def accepts(self, file: Path, hashed_secret: str) -> bool:
        return (file.resolve(), hashed_secret) in self.accepted


def _exclude_patterns(filters: Any) -> tuple[re.Pattern[str], ...]:
    patterns: list[re.Pattern[str]] = []
    for entry in filters or []:
        if entry.get("path") == "detect_secrets.filters.regex.should_exclude_files":
            given = entry.get("pattern", [])
            patterns += [re.compile(p) for p in ([given] if isinstance(given, str) else given)]
    return tuple(patterns)


def load_baseline(path: Path) -> Baseline:
    """Read a detect-secrets baseline (ConfigError if it cannot be read or is not one).

    File names are relative to the baseline's folder (detect-secrets writes them relative to where it ran,
    normally the repository root, next to the baseline). Entries audited as real (``is_secret: true``) are left
    out: a real secret stays a finding until it is removed and rotated.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        results = data["results"]
        if not isinstance(results, dict):
            raise TypeError("results is not an object")
        accepted = frozenset(
            ((path.parent / name).resolve(), str(entry["hashed_secret"]))
            for name, entries in results.items()
            for entry in entries
            if entry.get("is_secret") is not True
        )
        baseline = Baseline(path, accepted, _exclude_patterns(data.get("filters_used")))
    except OSError as exc:
        raise ConfigError(f"scan.baseline {str(path)!r} cannot be read ({exc.strerror}); fix the path") from None
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(
            f"scan.baseline {str(path)!r} is not a detect-secrets baseline ({exc}); regenerate it with "
            "`python -m bluum_readiness.credentials baseline`"
        ) from None
    return baseline


def write_baseline(result: ScanResult, path: Path, cwd: Path | None = None) -> int:
    """Record every finding of ``result`` (and the ones it accepted) in a detect-secrets baseline at ``path``,
    keeping the audit fields of entries already there. Returns the number of entries written."""
    here = (cwd or Path.cwd()).resolve()
    previous: dict[tuple[str, str], dict[str, Any]] = {}
    filters: list[Any] = []
    if path.exists():
        try:
            old_document = json.loads(path.read_text(encoding="utf-8"))
            old = old_document.get("results", {})
            previous = {(name, e["hashed_secret"]): e for name, entries in old.items() for e in entries}
            filters = list(old_document.get("filters_used", []))
        except (ValueError, AttributeError, KeyError, TypeError):
            previous = {}
    results: dict[str, list[dict[str, Any]]] = {}
    history = [Finding(f.file, f.line, f.rule, f.hashed_secret) for f in (*result.history_findings,
               *result.history_accepted)]  # fmt: skip
    written: set[tuple[str, str]] = set()
    for finding in sorted({*result.findings, *result.accepted}) + sorted(history):
        absolute = (here / finding.file).resolve()
        name = os.path.relpath(absolute, path.parent.resolve()).replace(os.sep, "/")
        if (name, finding.hashed_secret) in written:
            continue  # one entry accepts a secret in a file, wherever its lines are (and in every commit)
        written.add((name, finding.hashed_secret))
        entry = {"type": finding.rule, "filename": name, "hashed_secret": finding.hashed_secret, "is_verified": False,
                 "line_number": finding.line}  # fmt: skip
        kept = previous.get((name, finding.hashed_secret), {})
        if "is_secret" in kept:
            entry["is_secret"] = kept["is_secret"]
        results.setdefault(name, []).append(entry)
    from detect_secrets.__version__ import VERSION

    document = {
        "version": VERSION,
        "plugins_used": [{"name": name} for name in _builtin_plugins()]
        + [{"name": name, "path": f"file://{_plugins_path(path.parent)}"} for name in CUSTOM_PLUGINS],
        "filters_used": _filters_used(filters, path.parent),
        "results": results,
        "generated_by": "bluum-readiness (python -m bluum_readiness.credentials baseline)",
    }
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return sum(len(v) for v in results.values())


def _filters_used(kept: list[Any], folder: Path) -> list[Any]:
    """detect-secrets' default filters with ours (so its own tools apply the same heuristics: ``detect-secrets-hook
    --baseline``), plus the ones kept from the previous baseline (``--exclude-files`` patterns…)."""
    from detect_secrets.settings import Settings

    def ours_or_replaced(entry: Any) -> bool:
        path = str(entry.get("path", "")) if isinstance(entry, dict) else ""
        return path in REPLACED_FILTERS or (path.startswith("file://") and path.rpartition("::")[2] in CUSTOM_FILTERS)

    kept = [entry for entry in kept if not ours_or_replaced(entry)]
    paths = {entry.get("path") for entry in kept if isinstance(entry, dict)}
    ours = [{"path": f"file://{_plugins_path(folder, FILTERS_FILE)}::{name}"} for name in CUSTOM_FILTERS]
    defaults = [
        {"path": p}
        for p in sorted(set(Settings().filters) - Settings.DEFAULT_FILTERS - set(REPLACED_FILTERS))
        if p not in paths
    ]
    return sorted([*defaults, *ours, *kept], key=lambda entry: str(entry.get("path", "")).lower())


def _plugins_path(folder: Path, file: Path = PLUGINS_FILE) -> str:
    """Where our plugins (or filters) are, relative to ``folder`` when below it (a portable baseline in this repo)."""
    try:
        return file.resolve().relative_to(folder.resolve()).as_posix()
    except ValueError:
        return str(file)


# -- detect-secrets ---------------------------------------------------------------------------------------


def _builtin_plugins() -> list[str]:
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class

    get_mapping_from_secret_type_to_class.cache_clear()
    classes: list[type] = list(get_mapping_from_secret_type_to_class().values())
    return sorted(cls.__name__ for cls in classes if cls.__module__.startswith("detect_secrets.plugins"))


class _DetectSecrets:
    """detect-secrets, configured: ``scan_file`` for a file on disk, ``scan_lines`` for lines held in memory (a
    commit's hunks: nothing secret is written to disk to scan it) with the same plugins and filters.

    Both run detect-secrets' own line loop (``core.scan._process_line_based_plugins``: the line filters, every
    plugin, the secret and context filters, a code snippet from the whole text) on the lines the prefilter
    (``prefilter.py``) finds some plugin could report on; ``exhaustive=True`` runs it on every line (the reference
    the prefilter is tested against).
    """

    def __init__(self, exhaustive: bool = False) -> None:
        from detect_secrets.core import scan as core
        from detect_secrets.filters import heuristic
        from detect_secrets.settings import get_plugins
        from detect_secrets.util.code_snippet import get_code_snippet

        self._core = core
        self._heuristic = heuristic
        self._plugins = list(get_plugins())
        self._snippet = get_code_snippet
        self._prefilter = None if exhaustive else Prefilter(self._plugins)

    def scan_file(self, path: Path) -> list[tuple[int, str, str]]:
        """``scan_files`` of one file."""
        return self.scan_files([path])[0]

    def scan_files(self, paths: list[Path]) -> list[list[tuple[int, str, str]]]:
        """For each file on disk: ``(line, rule, hashed secret)``, one per line and secret — what detect-secrets'
        ``scan_file`` finds (its file filters; its transformers: a YAML file's values, then an eager INI-like
        reading when the plain lines held nothing). The files' first readings go through the prefilter together,
        in groups of ``_FILES_AT_ONCE`` (each group's files are open meanwhile)."""
        found: list[list[tuple[int, str, str]]] = []
        for group in range(0, len(paths), _FILES_AT_ONCE):
            found += self._scan_group(paths[group : group + _FILES_AT_ONCE])
        return found

    def _scan_group(self, paths: list[Path]) -> list[list[tuple[int, str, str]]]:
        core = self._core
        readings: list[Iterator[list[str]] | None] = []
        first: list[list[tuple[int, str]]] = []
        with contextlib.ExitStack() as open_files:
            for path in paths:
                name = str(path)
                lines: list[tuple[int, str]] = []
                reading: Iterator[list[str]] | None = None
                if not core._is_filtered_out(required_filter_parameters=["filename"], filename=name):
                    try:
                        reading = open_files.enter_context(contextlib.closing(core._get_lines_from_file(name)))
                        lines = list(enumerate(next(reading, []), start=1))
                    except OSError:
                        reading = None
                readings.append(reading)
                first.append(lines)
            chosen = self._choose([(str(path), lines, None) for path, lines in zip(paths, first, strict=True)])
            results: list[list[tuple[int, str, str]]] = []
            for path, reading, lines, picked in zip(paths, readings, first, chosen, strict=True):
                hits = _hits(self._lines(lines, str(path), picked)) if reading is not None else []
                try:
                    while reading is not None and not hits:  # detect-secrets' next reading of a file with nothing
                        more = next(reading, None)
                        if more is None:
                            break
                        numbered = list(enumerate(more, start=1))
                        hits = _hits(self._lines(numbered, str(path), self._choose([(str(path), numbered, None)])[0]))
                except OSError:
                    hits = []
                results.append(_one_per_secret(hits))
        return results

    def skip_file(self, name: str) -> bool:
        """detect-secrets' file-name heuristics (scan_file applies them to files on disk)."""
        h = self._heuristic
        return bool(h.is_non_text_file(name) or h.is_lock_file(name) or h.is_swagger_file(name))

    def scan_lines(self, texts: list[tuple[str, list[tuple[int, str]], set[int]]]) -> list[list[tuple[int, str, str]]]:
        """For each ``(name, lines numbered from 1, the numbers to report)``: ``(line, rule, hashed secret)`` as if
        the lines were the file ``name`` (the other lines are context), one per line and secret. The prefilter
        searches all of them at once."""
        chosen = self._choose(texts)
        return [
            _one_per_secret(_hits(self._lines(lines, name, picked)))
            for (name, lines, _), picked in zip(texts, chosen, strict=True)
        ]

    def _choose(
        self, texts: Sequence[tuple[str, list[tuple[int, str]], set[int] | None]]
    ) -> list[list[tuple[int, str, list[Any]]]]:
        """For each text: the lines to run through detect-secrets' loop (number, text, the plugins to run there) —
        the prefilter's candidates, or (``exhaustive``) every wanted line with every plugin."""
        if self._prefilter is None:
            return [[(n, text, self._plugins) for n, text in lines if only is None or n in only]
                    for _, lines, only in texts]  # fmt: skip
        found = self._prefilter.candidates_of([
            (name, [text.rstrip() for _, text in lines], None if only is None else [n - 1 for n in only])
            for name, lines, only in texts
        ])  # fmt: skip
        return [[(*lines[index], plugins) for index, plugins in indexes]
                for (_, lines, _), indexes in zip(texts, found, strict=True)]  # fmt: skip

    def _lines(
        self, lines: list[tuple[int, str]], filename: str, chosen: list[tuple[int, str, list[Any]]]
    ) -> Iterator[Any]:
        """detect-secrets' ``_process_line_based_plugins`` on the ``chosen`` lines of ``lines`` (numbered from 1, in
        order; all of them are the code snippets' context), with the plugins chosen for each."""
        core = self._core
        content = [text for _, text in lines]
        for line_number, raw, plugins in chosen:
            line = raw.rstrip()
            snippet = self._snippet(lines=content, line_number=line_number)
            if core._is_filtered_out(required_filter_parameters=["line"], filename=filename, line=line,
                                     context=snippet):  # fmt: skip
                continue
            for plugin in plugins:
                for secret in core._scan_line(plugin=plugin, filename=filename, line=line, line_number=line_number,
                                              context=snippet):  # fmt: skip
                    if not core._is_filtered_out(
                        required_filter_parameters=["context"], filename=secret.filename, secret=secret.secret_value,
                        plugin=plugin, line=line, context=snippet,
                    ):  # fmt: skip
                        yield secret


def _hits(secrets: Iterable[Any]) -> list[tuple[int, str, str]]:
    return [(int(s.line_number), str(s.type), str(s.secret_hash)) for s in secrets]


@contextmanager
def _detect_secrets(exhaustive: bool = False) -> Iterator[_DetectSecrets]:
    """detect-secrets configured with every built-in plugin, the Bluum plugins, its default filters (heuristics
    against false positives, the inline allow-list) and our label filter. Never its verification (no network)."""
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
    from detect_secrets.settings import Settings, transient_settings

    with _LOCK:
        plugins = [{"name": name} for name in _builtin_plugins()]
        plugins += [{"name": name, "path": f"file://{PLUGINS_FILE}"} for name in CUSTOM_PLUGINS]
        filters = [{"path": path} for path in sorted(Settings().filters) if path not in REPLACED_FILTERS]
        filters += [{"path": f"file://{FILTERS_FILE}::{name}"} for name in CUSTOM_FILTERS]
        get_mapping_from_secret_type_to_class.cache_clear()
        try:
            with transient_settings({"plugins_used": plugins, "filters_used": filters}):
                yield _DetectSecrets(exhaustive)
        finally:
            get_mapping_from_secret_type_to_class.cache_clear()


def _specific_first(rule: str) -> tuple[int, str]:
    """Our rules and detect-secrets' format rules before its keyword rule, entropy rules last."""
    return (_GENERIC_RULES.get(rule, 0), rule)


def _one_per_secret(hits: Iterable[tuple[int, str, str]]) -> list[tuple[int, str, str]]:
    """One ``(line, rule, hash)`` per line and secret, under the most specific rule's name."""
    best: dict[tuple[int, str], tuple[int, str, str]] = {}
    for line, rule, hashed in hits:
        kept = best.get((line, hashed))
        if kept is None or _specific_first(rule) < _specific_first(kept[1]):
            best[(line, hashed)] = (line, rule, hashed)
    return sorted(best.values())


def _history_findings(occurrences: Iterable[Occurrence], shown: Callable[[Path], str]) -> list[HistoryFinding]:
    """One finding per secret: where the oldest scanned commit added it, and how many later commits did."""
    by_secret: dict[str, list[Occurrence]] = {}
    for occurrence in occurrences:
        by_secret.setdefault(occurrence.hashed_secret, []).append(occurrence)
    findings = []
    for hashed, found in by_secret.items():
        first = max(found, key=lambda o: (o.order, _specific_first(o.rule)[0] * -1, o.path, -o.line))
        later = len({o.commit for o in found}) - 1
        findings.append(
            HistoryFinding(first.commit[:SHORT_ID], shown(first.path), first.line, first.rule, hashed, later)
        )
    return sorted(findings, key=lambda f: (f.file, f.line, f.commit, f.rule))


def scan(
    paths: Iterable[str | Path],
    *,
    exclude: Iterable[str] = (),
    baseline: str | Path | None = None,
    max_file_bytes: int = 1024 * 1024,
    include_ignored: bool = False,
    accept_hashes: Iterable[str] = (),
    cwd: Path | None = None,
    cache: ScanCache | None = None,
    history_depth: int = 0,
    history_max_bytes: int = 32 * 1024 * 1024,
    also: Iterable[Path] = (),
    out: str | Path | None = None,
    exhaustive: bool = False,
) -> ScanResult:
    """Scan ``paths`` (files or folders, relative to ``cwd``) for secrets.

    :param exclude: glob patterns skipped on top of ``DEFAULT_EXCLUDES``.
    :param baseline: a detect-secrets baseline whose entries are accepted (ConfigError if unreadable).
    :param accept_hashes: SHA-1 hashes (``hash_secret``) of values that are not findings (e.g. the key id the
        config names on purpose).
    :param cache: per-file and per-commit results (default: ``ScanCache.default()``; see ``scan_cache``).
    :param history_depth: in a git repository, also scan the lines added by up to this many commits HEAD reaches
        (0: not at all), reading at most ``history_max_bytes`` of patches.
    :param also: more files or folders whose files (not history) are scanned too, e.g. the integration's own
        source when it lives outside ``paths`` (``integration_sources``); listed in ``ScanResult.paths``.
    :param out: the run's output folder (``--out``): its files are the tool's own output, not scanned. Not part
        of any cache key (it decides no file's or commit's result); what git holds of it is history like any other.
    :param exhaustive: every line through every plugin, without the prefilter (the reference it is tested
        against: the same findings, ~10x slower). Pass a cache of its own (``ScanCache(None)``).
    """
    results_cache = cache if cache is not None else ScanCache.default()
    here = cwd or Path.cwd()
    roots: list[Path] = []
    for given in paths:
        path = Path(given).expanduser()
        path = path if path.is_absolute() else here / path
        if not path.exists():
            raise ConfigError(f"scan.paths: {str(given)!r} does not exist; fix [scan] paths in the config")
        roots.append(path)
    patterns = (*DEFAULT_EXCLUDES, *exclude)
    known = load_baseline(Path(baseline)) if baseline is not None else None
    accepted_hashes = set(accept_hashes)
    extra = [p for p in also if p.exists() and not any(p.resolve().is_relative_to(r.resolve()) for r in roots)]
    shown_paths = (*(str(p) for p in paths), *(_display(p, here) for p in extra))
    result = ScanResult([], [], 0, [], 0, shown_paths, None if baseline is None else str(baseline))
    skip = frozenset() if out is None else frozenset({(here / Path(out).expanduser()).resolve()})
    scanned: list[tuple[Path, str, str, list[tuple[int, str, str]]]] = []  # not in the cache: scanned together
    known_hits: list[tuple[Path, str, str, list[tuple[int, str, str]]]] = []
    with _detect_secrets(exhaustive) as detect:
        for path in _files([*roots, *extra], patterns, include_ignored, skip):
            shown = _display(path, here)
            if known is not None and known.excludes(path):
                continue
            try:
                if path.stat().st_size > max_file_bytes:
                    result.skipped_large.append(shown)
                    continue
                data = path.read_bytes()
            except OSError:
                continue
            if _is_binary(data):
                result.skipped_binary += 1
                continue
            result.files_scanned += 1
            result.bytes_scanned += len(data)
            result.lines_scanned += len(data.splitlines())
            key = results_cache.key(path.name, data)
            hits = results_cache.get(key)
            (scanned if hits is None else known_hits).append((path, shown, key, hits or []))
        fresh = detect.scan_files([path for path, _, _, _ in scanned])  # the files not in the cache, together
        for (path, shown, key, _), hits in zip(scanned, fresh, strict=True):
            results_cache.put(key, hits)
            known_hits.append((path, shown, key, hits))
        for path, shown, _, hits in known_hits:
            for line, rule, hashed in hits:
                finding = Finding(shown, line, rule, hashed)
                ok = finding.hashed_secret in accepted_hashes or (
                    known is not None and known.accepts(path, finding.hashed_secret)
                )
                (result.accepted if ok else result.findings).append(finding)
        if history_depth > 0:
            result.history = scan_history(
                roots,
                depth=history_depth,
                max_bytes=history_max_bytes,
                max_file_bytes=max_file_bytes,
                patterns=patterns,
                baseline_excludes=[p.pattern for p in known.exclude_files] if known is not None else [],
                excluded=lambda file: _excluded_in_history(file, roots, patterns, known),
                cache=results_cache,
                scan_lines=detect.scan_lines,
                skip_file=detect.skip_file,
            )
    result.findings.sort()
    result.accepted.sort()
    if result.history.ran:
        _fold_history(result, accepted_hashes, known, here)
    return result


def _excluded_in_history(file: Path, roots: Iterable[Path], patterns: tuple[str, ...], known: Baseline | None) -> bool:
    """A file of a commit the scan leaves out: the same excludes as the files (relative to the scanned folder
    holding it) and the baseline's ``--exclude-files`` patterns."""
    if known is not None and known.excludes(file):
        return True
    for root in roots:
        try:
            relative = file.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            continue
        if relative != "." and _excluded(relative, patterns):
            return True
    return False


def _fold_history(result: ScanResult, accepted_hashes: set[str], known: Baseline | None, here: Path) -> None:
    """History occurrences into the result: accepted like files' findings (the configured hashes, the baseline
    by file and hash, or a secret the baseline accepts in the files), a secret still in the files marked on that
    finding, the rest one ``HistoryFinding`` per secret."""
    in_files = {f.hashed_secret for f in result.findings}
    accepted_in_files = {f.hashed_secret for f in result.accepted}
    pending: list[Occurrence] = []
    accepted: list[Occurrence] = []
    oldest: dict[str, Occurrence] = {}
    for occurrence in result.history.occurrences:
        hashed = occurrence.hashed_secret
        ok = (
            hashed in accepted_hashes
            or hashed in accepted_in_files
            or (known is not None and known.accepts(occurrence.path, hashed))
        )
        if ok:
            accepted.append(occurrence)
        elif hashed in in_files:
            if hashed not in oldest or occurrence.order > oldest[hashed].order:
                oldest[hashed] = occurrence
        else:
            pending.append(occurrence)
    result.findings = [
        dataclasses.replace(f, committed_in=oldest[f.hashed_secret].commit[:SHORT_ID])
        if f.hashed_secret in oldest
        else f
        for f in result.findings
    ]
    result.history_findings = _history_findings(pending, lambda p: _display(p, here))
    result.history_accepted = _history_findings(accepted, lambda p: _display(p, here))


def scan_configured(config: RunConfig, cwd: Path | None = None) -> ScanResult:
    """The scan the run's configuration asks for: ``[scan]`` paths, excludes and baseline (default:
    ``.secrets.baseline`` in ``cwd`` when present), minus the run's ``out`` folder. The key id ``[credentials] key``
    names on purpose is not a finding (it is not secret; the secret never is in the config)."""
    here = cwd or Path.cwd()
    settings = config.scan
    baseline: Path | None = None
    if settings.baseline is not None:
        baseline = Path(settings.baseline).expanduser()
        baseline = baseline if baseline.is_absolute() else here / baseline
        if not baseline.is_file():
            raise ConfigError(
                f"scan.baseline {settings.baseline!r} does not exist; create it with "
                "`python -m bluum_readiness.credentials baseline` or remove the setting"
            )
    elif (here / BASELINE_FILE).is_file():
        baseline = here / BASELINE_FILE
    accept = [hash_secret(config.credentials.key)] if config.credentials.key else []
    return scan(
        settings.paths,
        exclude=settings.exclude,
        out=config.out,
        baseline=baseline,
        max_file_bytes=settings.max_file_kb * 1024,
        include_ignored=settings.include_ignored,
        accept_hashes=accept,
        cwd=here,
        history_depth=settings.history_depth if settings.history else 0,
        history_max_bytes=settings.history_max_mb * 1024 * 1024,
        also=integration_sources(config.integration, here),
    )


def integration_sources(spec: str, cwd: Path) -> list[Path]:
    """The integration's own code, so it is scanned wherever it lives: a Python adapter's module (its package's
    folder), or the files an ``exec:`` command names (its script, its jar); nothing when they cannot be found."""
    if spec.startswith("exec:"):
        try:
            argv = shlex.split(spec.removeprefix("exec:"))
        except ValueError:
            return []
        named = [Path(arg) for arg in argv if not arg.startswith("-")]
        return [p if p.is_absolute() else cwd / p for p in named if (p if p.is_absolute() else cwd / p).is_file()]
    module = spec.partition(":")[0]
    try:
        found = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return []
    if found is None or not found.origin or found.origin in ("built-in", "frozen"):
        return []
    if found.submodule_search_locations:
        return [Path(location) for location in found.submodule_search_locations]
    return [Path(found.origin)]


# -- scanning ahead -----------------------------------------------------------------------------------------

_AHEAD: dict[tuple[Any, ...], Future[ScanResult]] = {}
_AHEAD_LOCK = threading.Lock()


def _ahead_key(config: RunConfig, cwd: Path) -> tuple[Any, ...]:
    return (config.scan, config.out, config.credentials.key, str(cwd.resolve()))


def prefetch_scan(config: RunConfig, cwd: Path | None = None) -> None:
    """Start ``scan_configured`` in a background thread, so it overlaps with the checks' network waits; the
    next ``scan_configured_ahead`` for the same configuration and folder takes its result (once)."""
    here = cwd or Path.cwd()
    future: Future[ScanResult] = Future()
    with _AHEAD_LOCK:
        key = _ahead_key(config, here)
        if key in _AHEAD:
            return
        _AHEAD[key] = future

    environment = gitlog.environment_now()  # here, in the thread that starts the scan

    def work() -> None:
        try:
            with gitlog.pinned_environment(environment):
                future.set_result(scan_configured(config, here))
        except BaseException as exc:  # delivered to whoever takes the result
            future.set_exception(exc)

    threading.Thread(target=work, name="secret-scan-ahead", daemon=True).start()


def scan_configured_ahead(config: RunConfig, cwd: Path | None = None) -> ScanResult:
    """The result of a prefetched scan of this configuration and folder (waiting for it), else a scan now.
    A prefetched result serves one caller only, so a later scan sees later files."""
    here = cwd or Path.cwd()
    with _AHEAD_LOCK:
        future = _AHEAD.pop(_ahead_key(config, here), None)
    return future.result() if future is not None else scan_configured(config, here)
