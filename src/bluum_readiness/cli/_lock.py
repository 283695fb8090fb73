"""One run per ``--out`` folder: ``OutLock``, and the outputs of an earlier run cleared before a new one writes.

The lock is a file, ``OUT/.bluum-readiness.lock``, created exclusively (``O_EXCL``) and holding the owner's pid,
host and start time. A second run into the same folder while the owner lives is refused (exit 2), never a silent
overwrite of its record; a lock whose owner is gone (a run killed with SIGKILL, a machine that rebooted) is stale
and taken over. The run releases it when it ends, whatever the ending; the supervising process
(``cli._supervise``) removes it when the run's process died without doing so.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
from datetime import UTC, datetime
from pathlib import Path

from bluum_readiness.cli._out import OUTPUT_FILES, OUTPUT_FOLDERS
from bluum_readiness.errors import ConfigError

__all__ = ["LOCK_NAME", "OutLock", "clear_outputs", "release_for"]

LOCK_NAME = ".bluum-readiness.lock"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def _holder(path: Path) -> dict[str, object] | None:
    """The lock's content, or None when it is unreadable (being written, or garbage: treated as stale)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("pid"), int) else None


class OutLock:
    """The lock of one ``--out`` folder (see the module docstring)."""

    def __init__(self, folder: str | Path, flag: str = "--out") -> None:
        self.folder = Path(folder)
        self.path = self.folder / LOCK_NAME
        self.flag = flag
        self.held = False
        self.made: list[Path] = []  # the folders the lock created (deepest first), removed again if left empty

    def acquire(self) -> OutLock:
        """Take the lock, or a ConfigError naming the live run that holds it."""
        self.made = [p for p in (self.folder, *self.folder.parents) if not p.exists()]
        self.folder.mkdir(parents=True, exist_ok=True)
        host = socket.gethostname()
        for _ in range(5):
            try:
                handle = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = _holder(self.path)
                if holder is not None and self._live(holder, host):
                    raise ConfigError(
                        f"{self.flag} {self.folder} is in use by another bluum-readiness run (pid {holder['pid']}"
                        f"{'' if holder.get('host') == host else ' on ' + str(holder.get('host'))}, started "
                        f"{holder.get('started', '?')}); wait for it to finish, or pass another {self.flag}"
                        + ("" if holder.get("host") == host else f" (or delete {self.path} if that run is gone)")
                    ) from None
                with contextlib.suppress(FileNotFoundError):
                    self.path.unlink()  # stale: its owner is gone
                continue
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                json.dump({"pid": os.getpid(), "host": host, "started": datetime.now(UTC).isoformat()}, file)
            self.held = True
            return self
        raise ConfigError(f"could not take the lock {self.path}; delete it if no run is using {self.folder}")

    @staticmethod
    def _live(holder: dict[str, object], host: str) -> bool:
        if holder.get("host") != host:
            return True  # another machine's run (a shared folder): it cannot be checked, so it is respected
        pid = holder["pid"]
        return isinstance(pid, int) and pid != os.getpid() and _alive(pid)

    def release(self) -> None:
        """Remove the lock if this process still holds it, and the folders it made if nothing was written there (a
        run that stopped at a usage error leaves no trace)."""
        if self.held:
            release_for(self.folder, os.getpid())
            self.held = False
        for made in self.made:
            try:
                made.rmdir()
            except OSError:
                break


def release_for(folder: str | Path, pid: int) -> bool:
    """Remove ``folder``'s lock if process ``pid`` holds it (the supervisor, for a run that died); True if removed."""
    path = Path(folder) / LOCK_NAME
    holder = _holder(path)
    if holder is None or holder.get("pid") != pid:
        return False
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    return True


def clear_outputs(folder: str | Path) -> None:
    """Remove what an earlier run wrote into ``folder`` (its record, reports, email, log, Allure results), so no
    file of another run is ever left beside this run's record."""
    base = Path(folder)
    for name in OUTPUT_FILES:
        with contextlib.suppress(FileNotFoundError):
            (base / name).unlink()
    with contextlib.suppress(FileNotFoundError):
        (base / "readiness.json.tmp").unlink()
    for name in OUTPUT_FOLDERS:
        if (base / name).is_dir():
            shutil.rmtree(base / name, ignore_errors=True)
