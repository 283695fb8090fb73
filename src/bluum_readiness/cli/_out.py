"""The ``--out`` folder, proved writable before anything runs (a usage error, exit 2, one line)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from bluum_readiness.errors import ConfigError

__all__ = ["OUTPUT_FILES", "OUTPUT_FOLDERS", "RENDERED_FILES", "writable_folder"]

# what `report` renders from readiness.json into a folder; `run` writes these, readiness.json and pytest.log
RENDERED_FILES = ("readiness.html", "readiness.pdf", "readiness.md", "junit.xml", "email.eml", "email.txt")
OUTPUT_FILES = ("readiness.json", "pytest.log", *RENDERED_FILES)  # each must be free for its kind
OUTPUT_FOLDERS = ("allure-results",)


def writable_folder(
    path: str | Path,
    flag: str = "--out",
    files: tuple[str, ...] = OUTPUT_FILES,
    folders: tuple[str, ...] = OUTPUT_FOLDERS,
) -> Path:
    """``path`` if this process can create it (when missing) and write files into it, and nothing of the other
    kind stands where one of ``files`` or ``folders`` goes (a folder named readiness.json); else a ConfigError
    naming the folder, what is wrong (a file in the way, read-only, no permission) and what to do. Leaves no
    trace: a folder made for the test is removed again (the run makes it when it writes)."""
    fix = f"pass {flag} a folder you can write to (e.g. {flag} ./readiness-out)"
    if not str(path).strip():
        raise ConfigError(f"{flag} {str(path)!r} is empty; {fix}")
    folder = Path(path)
    _can_look_at(folder, flag, fix)
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"{flag} {path} is a file, not a folder; move the file away or {fix}")
    for name, want_folder in [(n, False) for n in files] + [(n, True) for n in folders]:
        entry = folder / name
        if entry.exists() and entry.is_dir() != want_folder:
            kind = "a file" if want_folder else "a folder"
            raise ConfigError(
                f"{flag} {path} holds {kind} named {name}, where the run writes its own; move it away or {fix}"
            )
    missing = [p for p in (folder, *folder.parents) if not p.exists()]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, probe = tempfile.mkstemp(prefix=".bluum-readiness-write-test-", dir=folder)
        os.close(handle)
        os.unlink(probe)
    except OSError as exc:
        why = exc.strerror or type(exc).__name__
        where = f" ({exc.filename})" if exc.filename and str(exc.filename) != str(folder) else ""
        raise ConfigError(f"cannot write into {flag} {path}: {why}{where}; {fix}") from None
    finally:
        for made in missing:  # deepest first
            try:
                made.rmdir()
            except OSError:
                break
    return folder


def _can_look_at(folder: Path, flag: str, fix: str) -> None:
    """A ConfigError when the system refuses even to look the folder up (a name longer than it allows, a parent this
    process may not search): ``Path.exists`` raises for those instead of answering."""
    try:
        folder.stat()
    except (FileNotFoundError, NotADirectoryError):
        return
    except OSError as exc:
        shown = str(folder) if len(str(folder)) <= 100 else f"{str(folder)[:60]}…{str(folder)[-30:]}"
        raise ConfigError(f"cannot use {flag} {shown}: {exc.strerror or type(exc).__name__}; {fix}") from None
