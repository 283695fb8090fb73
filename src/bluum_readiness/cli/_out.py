"""The ``--out`` folder, proved writable before anything runs (a usage error, exit 2, one line)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from bluum_readiness.errors import ConfigError

__all__ = ["writable_folder"]


def writable_folder(path: str | Path, flag: str = "--out") -> Path:
    """``path`` if this process can create it (when missing) and write files into it; else a ConfigError naming
    the folder, what is wrong (a file in the way, read-only, no permission) and what to do. Leaves no trace: a
    folder made for the test is removed again (the run makes it when it writes)."""
    folder = Path(path)
    fix = f"pass {flag} a folder you can write to (e.g. {flag} ./readiness-out)"
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"{flag} {path} is a file, not a folder; move the file away or {fix}")
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
