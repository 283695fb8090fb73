"""Results of the secret scan, cached by what determines them: per file, its name and bytes and the rules; per
commit of the history scan, its id (commits are immutable), the rules and the settings that choose its files.

detect-secrets costs ~20 ms a file, so a large project would pay it on every run; an unchanged file is not
scanned again. The key is SHA-256 over the rules' version (the source of the modules in ``RULE_MODULES``, the
detect-secrets version, ``FORMAT``), the file's name (detect-secrets' heuristics look at its extension) and its
bytes, so any change to the file or the rules misses the cache. A commit's key is SHA-256 over the rules' version,
the history settings' digest and the commit id. Entries hold paths, line numbers, rule names and the SHA-1
detect-secrets records — never a secret — and a commit's entry also how much it added that was scanned (lines,
bytes), so a run served from the cache reports how much it covered as a fresh one does. The baseline and the
inline allow-list are applied after, as for a fresh scan.

Where: ``$BLUUM_READINESS_CACHE_DIR`` (``off`` disables it), else ``$XDG_CACHE_HOME/bluum-readiness/scan``, else
``~/.cache/bluum-readiness/scan``. A cache that cannot be read or written is ignored (the file is scanned).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

__all__ = ["ENV_VAR", "CommitHits", "Hit", "ScanCache"]

ENV_VAR = "BLUUM_READINESS_CACHE_DIR"
FORMAT = "3"
Hit = tuple[int, str, str]  # line number, rule, hashed secret


class CommitHits(NamedTuple):
    """A commit's history-scan result: its findings (path, line number, rule, hashed secret), the paths skipped as
    too large, how many binary files it changed, and how much it added that was scanned (lines, bytes)."""

    hits: list[tuple[str, int, str, str]]
    skipped_large: list[str]
    skipped_binary: int
    added_lines: int = 0
    added_bytes: int = 0


# the modules whose code decides what is found (rules, filters, how history is read and scanned)
RULE_MODULES = ("plugins.py", "filters.py", "prefilter.py", "scan.py", "history.py", "gitlog.py")


@cache
def _rules_version() -> str:
    import detect_secrets

    sources = [Path(__file__).with_name(name).read_bytes() for name in RULE_MODULES]
    version = getattr(detect_secrets, "__version__", None) or _installed_version()
    return hashlib.sha256(b"\0".join([FORMAT.encode(), version.encode(), *sources])).hexdigest()


def _installed_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("detect-secrets")
    except PackageNotFoundError:
        return "unknown"


class ScanCache:
    """Scan results by file content. ``folder=None``: a cache that never hits and stores nothing."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder

    @classmethod
    def default(cls) -> ScanCache:
        configured = os.environ.get(ENV_VAR)
        if configured == "off":
            return cls(None)
        if configured:
            return cls(Path(configured).expanduser())
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        return cls(Path(base) / "bluum-readiness" / "scan")

    def key(self, name: str, data: bytes) -> str:
        digest = hashlib.sha256(_rules_version().encode())
        digest.update(b"\0" + name.encode("utf-8", "surrogateescape") + b"\0")
        digest.update(data)
        return digest.hexdigest()

    def commit_key(self, commit: str, settings: str) -> str:
        """The key of a commit's history-scan result: ``settings`` digests what chooses its files."""
        digest = hashlib.sha256(_rules_version().encode())
        digest.update(b"\0commit\0" + settings.encode() + b"\0" + commit.encode("ascii", "replace"))
        return digest.hexdigest()

    def _path(self, key: str) -> Path:
        assert self.folder is not None
        return self.folder / key[:2] / f"{key}.json"

    def _load(self, key: str) -> Any:
        if self.folder is None:
            return None
        try:
            return json.loads(self._path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def _store(self, key: str, value: Any) -> None:
        if self.folder is None:
            return
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(value, out)
            os.replace(temp, path)  # atomic: a concurrent reader sees the old entry or the new, never half
        except OSError:
            return

    def get(self, key: str) -> list[Hit] | None:
        try:
            raw = self._load(key)
            return None if raw is None else [(int(line), str(rule), str(hashed)) for line, rule, hashed in raw]
        except (ValueError, TypeError):
            return None

    def put(self, key: str, hits: list[Hit]) -> None:
        self._store(key, hits)

    def get_commit(self, key: str) -> CommitHits | None:
        try:
            raw = self._load(key)
            if raw is None:
                return None
            hits = [(str(file), int(line), str(rule), str(hashed)) for file, line, rule, hashed in raw["hits"]]
            return CommitHits(
                hits,
                [str(name) for name in raw["skipped_large"]],
                int(raw["skipped_binary"]),
                int(raw["added_lines"]),
                int(raw["added_bytes"]),
            )
        except (ValueError, TypeError, KeyError):
            return None  # a damaged entry: the commit is read again (older formats have other keys: FORMAT)

    def put_commit(self, key: str, result: CommitHits) -> None:
        self._store(key, result._asdict())
