"""The files a protocol program reads its secrets from, kept in step with the suite's sources.

The credentials file (``BLUUM_CREDENTIALS_FILE``, JSON ``{"key", "secret"}``) stands in for the team's secret
manager: when the suite's current pair changes (the rotation drill, the 401 checks) the file is rewritten. The
webhook secret file (``BLUUM_WEBHOOK_SECRET_FILE``) appears once the suite registers the program's receiver.
Both live in a private folder (0700), are 0600, and are replaced atomically (written beside, then renamed), so
a reader never sees half a file.

A source is followed at once when it offers ``subscribe(listener) -> unsubscribe`` (the suite's
``CredentialStore`` and ``WebhookSecret`` do), else by polling it; ``sync`` also re-reads it (the adapter calls
it before every request it sends the program).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Generic, TypeVar

from bluum_readiness.errors import HarnessError
from bluum_readiness.integration import Credentials

__all__ = ["ProgramFiles", "write_private"]

T = TypeVar("T")
POLL_INTERVAL_S = 0.02


def write_private(path: Path, text: str) -> None:
    """Replace ``path`` atomically with ``text``, readable by its owner only (0600)."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:  # mkstemp creates it 0600
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


class _Follow(Generic[T]):
    """Calls ``write`` with the source's value whenever it changes (unknown values — a HarnessError — are skipped)."""

    def __init__(self, source: Callable[[], T], write: Callable[[T], None], stop: threading.Event) -> None:
        self._source = source
        self._write = write
        self._lock = threading.Lock()
        self._last: T | None = None
        self.unsubscribe: Callable[[], None] | None = None
        subscribe = getattr(source, "subscribe", None)
        if callable(subscribe):
            self.unsubscribe = subscribe(lambda _value: self.sync())
        self.sync()
        if self.unsubscribe is None:
            threading.Thread(target=self._poll, args=(stop,), name="bluum-adapter-secrets", daemon=True).start()

    def sync(self) -> None:
        try:
            value = self._source()
        except HarnessError:  # not known yet (a webhook secret before registration)
            return
        with self._lock:
            if value != self._last:
                self._write(value)
                self._last = value

    def _poll(self, stop: threading.Event) -> None:
        while not stop.wait(POLL_INTERVAL_S):
            with contextlib.suppress(Exception):  # a failing source must not kill the follower; sync() re-raises
                self.sync()


class ProgramFiles:
    """The private folder of one program's secret files, following the suite's sources until ``close``."""

    def __init__(self, credentials: Callable[[], Credentials], webhook_secret: Callable[[], str] | None = None) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="bluum-adapter-"))  # 0700
        self.credentials_file = self.folder / "credentials.json"
        self.webhook_secret_file = self.folder / "webhook-secret" if webhook_secret is not None else None
        self._stop = threading.Event()
        self._follows: list[_Follow[Any]] = [_Follow(credentials, self._write_credentials, self._stop)]
        if webhook_secret is not None:
            self._follows.append(_Follow(webhook_secret, self._write_webhook_secret, self._stop))

    def _write_credentials(self, pair: Credentials) -> None:
        write_private(self.credentials_file, json.dumps({"key": pair.key, "secret": pair.secret}))

    def _write_webhook_secret(self, secret: str) -> None:
        assert self.webhook_secret_file is not None
        write_private(self.webhook_secret_file, secret)

    def sync(self) -> None:
        """Bring every file up to date with its source now."""
        for follow in self._follows:
            follow.sync()

    def close(self) -> None:
        self._stop.set()
        for follow in self._follows:
            if follow.unsubscribe is not None:
                follow.unsubscribe()
        shutil.rmtree(self.folder, ignore_errors=True)
