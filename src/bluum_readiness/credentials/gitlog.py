"""Reading a repository's history with the real ``git`` binary: which commits HEAD reaches, and the lines each one
added (with a little context around them), streamed from one ``git log -p`` and bounded in bytes.

Only commits reachable from HEAD are read (``git rev-list HEAD``; never ``--all``): a branch nobody merged is not
this checkout's history. Output is made independent of the user's git configuration (prefixes, colours, rename
detection, external diff and textconv drivers are all set on the command line). Nothing here raises for a folder
that is not a repository or a machine without git: ``repository`` returns a reason instead. A read that fails or
stops early says so (``Commits.error``, ``PatchReader.error``): the caller never takes a partial read for a whole one.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["LOG_TIMEOUT_S", "CommitList", "CommitPatch", "FilePatch", "PatchReader", "Repository", "repository"]

CONTEXT_LINES = 2  # lines around each hunk: a credential's name on the line above its literal
_HUNK = re.compile(rb"^@@ -\d+(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_COMMIT_MARK = b"\x01"
_GIT_TIMEOUT_S = 60
LOG_TIMEOUT_S = 600.0  # the whole `git log -p` read; past it the read stops, and says so
_ESCAPES = {"a": "\a", "b": "\b", "t": "\t", "n": "\n", "v": "\v", "f": "\f", "r": "\r", '"': '"', "\\": "\\"}


_PINNED: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar("git_environment", default=None)


def environment_now() -> dict[str, str]:
    """A copy of this process's environment, taken in the calling thread (pytest changes ``PYTEST_CURRENT_TEST`` in
    the main thread at every test, so copying ``os.environ`` from another thread may raise "dictionary changed size
    during iteration")."""
    return dict(os.environ)


@contextlib.contextmanager
def pinned_environment(environment: dict[str, str]) -> Iterator[None]:
    """git runs with ``environment`` (a copy ``environment_now`` took in the thread that started this one) inside
    the block, in this thread: a background scan never reads ``os.environ`` while the main thread changes it."""
    token = _PINNED.set(environment)
    try:
        yield
    finally:
        _PINNED.reset(token)


def _environment() -> dict[str, str]:
    base = _PINNED.get()
    return {
        **(base if base is not None else os.environ),
        "GIT_OPTIONAL_LOCKS": "0",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_PAGER": "cat",
        "LC_ALL": "C",
    }


def _first_line(data: bytes) -> str:
    text = data.decode("utf-8", "replace").strip()
    return text.splitlines()[0] if text else "no message"


@dataclass(frozen=True)
class Repository:
    """A git work tree: its top folder, and whether the clone is shallow (its history then ends early)."""

    top: Path
    shallow: bool

    def git(self, *args: str, timeout: float = _GIT_TIMEOUT_S) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            ["git", "-C", str(self.top), *args],
            capture_output=True,
            timeout=timeout,
            check=False,
            env=_environment(),
        )

    def commits(self, depth: int) -> CommitList:
        """Up to ``depth`` commit ids reachable from HEAD, newest first, and whether there are more. An empty list
        when HEAD has no commit yet; when git fails on the way (a missing commit object, a timeout), the ids it
        listed before and why it stopped."""
        try:
            done = self.git("rev-list", f"--max-count={depth + 1}", "HEAD", "--")
        except (OSError, subprocess.TimeoutExpired) as exc:
            return CommitList([], False, f"git rev-list could not list the commits ({type(exc).__name__})")
        ids = done.stdout.decode("ascii", "replace").split()
        if done.returncode != 0:
            if self.git("rev-parse", "--verify", "--quiet", "HEAD").returncode != 0:
                return CommitList([], False)  # no commit yet: an empty history, read in full
            return CommitList(ids[:depth], False, f"git rev-list failed: {_first_line(done.stderr)}")
        return CommitList(ids[:depth], len(ids) > depth)


@dataclass(frozen=True)
class CommitList:
    """The commits a history scan covers (newest first); ``more``: HEAD reaches more than were asked for;
    ``error``: git stopped before it listed them all (then ``ids`` are the ones it listed)."""

    ids: list[str]
    more: bool
    error: str | None = None


def repository(folder: Path) -> Repository | str:
    """The git work tree ``folder`` is in, or why there is none (git missing, not a repository, git refused)."""
    if shutil.which("git") is None:
        return "git is not installed (not on PATH)"
    if not folder.is_dir():
        folder = folder.parent
    try:
        done = subprocess.run(
            ["git", "-C", str(folder), "rev-parse", "--show-toplevel", "--is-shallow-repository"],
            capture_output=True,
            timeout=_GIT_TIMEOUT_S,
            check=False,
            env=_environment(),
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"git could not be run ({type(exc).__name__})"
    if done.returncode != 0:
        message = _first_line(done.stderr)
        if "not a git repository" in message:
            return "not a git repository"
        return f"git refused the folder: {message}"
    top, _, shallow = done.stdout.decode("utf-8", "surrogateescape").strip().partition("\n")
    return Repository(Path(top), shallow.strip() == "true")


@dataclass
class FilePatch:
    """One file's side of a commit's patch: its path after the commit and the hunks' lines as
    ``(line number, text, added)`` (added lines plus ``CONTEXT_LINES`` unchanged ones around them)."""

    path: str
    lines: list[tuple[int, str, bool]] = field(default_factory=list)
    binary: bool = False

    @property
    def added_bytes(self) -> int:
        """The size of the added lines (UTF-8, a newline each)."""
        return sum(len(text.encode("utf-8", "surrogateescape")) + 1 for _, text, added in self.lines if added)


@dataclass
class CommitPatch:
    commit: str
    files: list[FilePatch] = field(default_factory=list)


def _unquote(path: bytes) -> str:
    """A path as git prints it: C-quoted (``"a\\tb"``, octal escapes for non-ASCII) when it has odd characters."""
    text = path.decode("utf-8", "surrogateescape")
    if not (text.startswith('"') and text.endswith('"')):
        return text
    raw, out, i = text[1:-1], bytearray(), 0
    while i < len(raw):
        char = raw[i]
        if char == "\\" and i + 1 < len(raw):
            following = raw[i + 1]
            if following in "01234567":
                out.append(int(raw[i + 1 : i + 4], 8))
                i += 4
                continue
            out += _ESCAPES.get(following, following).encode()
            i += 2
            continue
        out += char.encode("utf-8", "surrogateescape")
        i += 1
    return out.decode("utf-8", "surrogateescape")


class PatchReader:
    """The patches of ``commits`` (in that order), from one ``git log --no-walk=unsorted --stdin -p``.

    Iterating yields one ``CommitPatch`` per commit that git printed (a commit whose changes are all outside
    ``pathspecs``, or a merge, prints nothing: it added no line here). Reading stops after ``max_bytes`` of output;
    then ``truncated`` is True and ``complete`` holds the commits read in full (the others are for a later run).
    After a full read, ``complete`` is every commit asked for — unless git failed or the read took longer than
    ``timeout_s`` (``error`` says why; ``complete`` then holds the commits read in full before it).
    """

    def __init__(
        self,
        repo: Repository,
        commits: Sequence[str],
        pathspecs: Sequence[str],
        max_bytes: int,
        timeout_s: float | None = None,
    ) -> None:
        self.repo = repo
        self.commits = list(commits)
        self.pathspecs = list(pathspecs)
        self.max_bytes = max_bytes
        self.timeout_s = LOG_TIMEOUT_S if timeout_s is None else timeout_s
        self.bytes_read = 0
        self.truncated = False
        self.timed_out = False
        self.error: str | None = None
        self.complete: list[str] = []
        self._deadline = 0.0
        self._expired = False

    def command(self) -> list[str]:
        return [
            "git", "-C", str(self.repo.top),
            "-c", "core.quotepath=on", "-c", "diff.noprefix=false", "-c", "diff.mnemonicprefix=false",
            "-c", "color.ui=never", "-c", "log.showSignature=false",
            "log", "--no-walk=unsorted", "--stdin", "--format=tformat:%x01%H", "--patch", "--root",
            f"--unified={CONTEXT_LINES}", "--find-renames", "--no-color", "--no-ext-diff", "--no-textconv",
            "--src-prefix=a/", "--dst-prefix=b/", "--diff-filter=d",
            "--", *self.pathspecs,
        ]  # fmt: skip

    def __iter__(self) -> Iterator[CommitPatch]:
        if not self.commits:
            return
        try:
            process = subprocess.Popen(
                self.command(),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=_environment(),
            )
        except OSError as exc:
            self.error = f"git could not be run ({type(exc).__name__})"
            return
        assert process.stdin is not None and process.stdout is not None and process.stderr is not None
        self._deadline = time.monotonic() + self.timeout_s
        watchdog = threading.Timer(max(self.timeout_s, 0.0), self._expire, (process,))
        watchdog.daemon = True
        watchdog.start()  # git printing nothing for that long is a timeout too (the loop below would just wait)
        try:
            # git reads every revision from stdin before it prints anything, so this cannot deadlock
            try:
                process.stdin.write("".join(f"{c}\n" for c in self.commits).encode("ascii"))
                process.stdin.close()
            except BrokenPipeError:
                pass  # git ended before it read them (killed, or it failed): its exit status says which
            order = {commit: index for index, commit in enumerate(self.commits)}
            current: CommitPatch | None = None
            for patch in self._parse(process.stdout):
                if patch is None:  # over the byte bound, or out of time
                    self.truncated = not self.timed_out
                    break
                if current is not None:
                    yield current  # filled in: the next commit's header has arrived
                # git prints the commits in the order asked, so every one before this is read in full
                self.complete = self.commits[: order.get(patch.commit, len(self.complete))]
                current = patch
            if current is not None and not self.truncated and not self.timed_out:
                yield current
        finally:
            watchdog.cancel()
            if self.truncated or self.timed_out or process.poll() is None:
                process.kill()
            stderr = process.stderr.read()
            process.wait()
            process.stdout.close()
            process.stderr.close()
        if self.truncated:
            return
        if process.returncode != 0 and self._expired:  # killed by the watchdog: its output ended early
            self.timed_out = True
        if self.timed_out:
            self.error = f"git log took longer than {self.timeout_s:g} s and was stopped"
            return
        if process.returncode != 0:
            self.error = f"git log failed: {_first_line(stderr)}"
            return
        self.complete = list(self.commits)

    def _expire(self, process: subprocess.Popen[bytes]) -> None:
        """The watchdog: the read is out of time (git is killed, so its output ends)."""
        self._expired = True
        if process.poll() is None:
            process.kill()

    def _parse(self, stream: Iterator[bytes]) -> Iterator[CommitPatch | None]:
        """CommitPatch objects as their headers arrive (each filled in while the following lines are read),
        then None if the byte bound was reached or the time is up (``timed_out``)."""
        patch: CommitPatch | None = None
        file: FilePatch | None = None
        old_left = new_left = 0
        number = 0
        for raw in stream:
            self.bytes_read += len(raw)
            if self.bytes_read > self.max_bytes:
                yield None
                return
            if raw.startswith(_COMMIT_MARK) and time.monotonic() > self._deadline:
                self.timed_out = True
                yield None
                return
            line = raw.rstrip(b"\n")
            if old_left > 0 or new_left > 0:  # inside a hunk: counts tell content from headers
                marker, text = line[:1], line[1:].decode("utf-8", "replace")
                if marker == b"+":
                    if file is not None:
                        file.lines.append((number, text, True))
                    number, new_left = number + 1, new_left - 1
                elif marker == b"-":
                    old_left -= 1
                elif marker == b"\\":
                    pass  # "\ No newline at end of file"
                else:
                    if file is not None:
                        file.lines.append((number, text, False))
                    number, old_left, new_left = number + 1, old_left - 1, new_left - 1
                continue
            if line.startswith(_COMMIT_MARK):
                patch, file = CommitPatch(line[1:].decode("ascii", "replace").strip()), None
                yield patch
            elif line.startswith(b"diff --git "):
                file = None
            elif line.startswith(b"+++ ") and patch is not None:
                target = line[4:].removesuffix(b"\t")  # git ends a name holding a space with a tab
                if target != b"/dev/null":
                    name = _unquote(target)
                    file = FilePatch(name[2:] if name.startswith("b/") else name)
                    patch.files.append(file)
            elif line.startswith(b"Binary files ") and patch is not None:
                patch.files.append(FilePatch(_binary_target(line), binary=True))
            elif (hunk := _HUNK.match(line)) is not None:
                old_left = int(hunk.group(1)) if hunk.group(1) is not None else 1
                number = int(hunk.group(2))
                new_left = int(hunk.group(3)) if hunk.group(3) is not None else 1


def _binary_target(line: bytes) -> str:
    """The path in ``Binary files a/x and b/y differ``."""
    text = line.decode("utf-8", "surrogateescape").removesuffix(" differ").removesuffix("\t")
    target = text.rpartition(" and ")[2]
    name = _unquote(target.encode("utf-8", "surrogateescape"))
    return name[2:] if name.startswith("b/") else name
