"""SQLite access for the twin: one connection per app, WAL, one lock, explicit transactions.

All state lives here, so a twin restarted on the same file picks up where it
stopped. ``synchronous=NORMAL`` in WAL mode keeps every committed transaction
across a process crash (kill -9); only an OS crash or power loss could lose the
last commits, which is an accepted trade-off for a local sandbox.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from bluum_readiness.errors import ConfigError

__all__ = ["Database", "StepCount"]


@dataclass
class StepCount:
    """SQLite virtual-machine instructions run so far inside ``Database.counting_steps()``."""

    count: int = 0


class Database:
    """The twin's database. Use ``tx()`` for every write so each request commits atomically."""

    def __init__(self, path: str) -> None:
        self.path = path
        if path != ":memory:":
            parent = Path(path).expanduser().resolve().parent
            if not parent.is_dir():
                raise ConfigError(f"cannot open the twin database {path!r}: folder {parent} does not exist; create it")
        try:
            self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=10.0)
        except sqlite3.Error as exc:
            raise ConfigError(f"cannot open the twin database {path!r}: {exc}; pass --db with a writable path") from exc
        self._conn.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        self._depth = 0
        try:
            if path != ":memory:":
                self._conn.execute("PRAGMA journal_mode=WAL")
                self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute("PRAGMA foreign_keys=ON")
            self._conn.executescript(resources.files(__package__).joinpath("schema.sql").read_text("utf-8"))
        except sqlite3.DatabaseError as exc:
            self._conn.close()  # not left for the garbage collector (Python 3.13 warns of an unclosed database)
            raise ConfigError(
                f"{path!r} is not a usable twin database ({exc}); point --db at a new file or a twin database"
            ) from exc

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def tx(self) -> Iterator[Database]:
        """A write transaction (BEGIN IMMEDIATE … COMMIT); nested calls join the outer one."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self
                finally:
                    self._depth -= 1
                return
            self._conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield self
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            else:
                self._conn.execute("COMMIT")
            finally:
                self._depth = 0

    @contextmanager
    def counting_steps(self) -> Iterator[StepCount]:
        """Count the SQLite VM instructions every statement runs inside the block (on any thread).

        A measure of work that does not depend on the machine's load: cost-regression tests compare it between
        a small and a large history instead of timing anything.
        """
        steps = StepCount()

        def tick() -> int:
            steps.count += 1
            return 0  # 0: go on

        with self._lock:
            self._conn.set_progress_handler(tick, 1)
        try:
            yield steps
        finally:
            with self._lock:
                self._conn.set_progress_handler(None, 0)

    def execute(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> sqlite3.Cursor:
        with self._lock:
            return self._conn.execute(sql, params)

    def one(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> sqlite3.Row | None:
        with self._lock:
            row: sqlite3.Row | None = self._conn.execute(sql, params).fetchone()
            return row

    def all(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def next_seq(self, name: str = "seq") -> int:
        """A monotonically increasing number (ordering within equal timestamps). Call inside ``tx()``."""
        row = self.one(
            "INSERT INTO counters (name, value) VALUES (?, 1) "
            "ON CONFLICT(name) DO UPDATE SET value = value + 1 RETURNING value",
            (name,),
        )
        assert row is not None
        return int(row[0])

    @staticmethod
    def dumps(value: Any) -> str:
        return json.dumps(value, separators=(",", ":"), sort_keys=False)
