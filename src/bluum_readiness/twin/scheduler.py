"""Scheduled work: the twin's state machines advance through due jobs.

A job is a row (due time, kind, reference); handlers are registered by kind and
run inside one transaction each, with the job deleted in the same transaction,
so a job runs exactly once even across a crash and restart. The app's
background loop calls ``run_due`` every tick; tests may call it directly.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bluum_readiness.twin.engine import Twin

__all__ = ["Job", "JobHandler", "Scheduler"]

log = logging.getLogger("bluum_readiness.twin")


@dataclass(frozen=True)
class Job:
    id: int
    due: float
    kind: str
    tenant_id: str
    ref: str
    payload: dict[str, Any]


JobHandler = Callable[["Twin", Job], None]


class Scheduler:
    def __init__(self, twin: Twin) -> None:
        self._twin = twin
        self._handlers: dict[str, JobHandler] = {}

    def register(self, kind: str, handler: JobHandler) -> None:
        if kind in self._handlers:
            raise ValueError(f"a job handler for {kind!r} is already registered")
        self._handlers[kind] = handler

    def schedule(self, tenant_id: str, kind: str, ref: str, delay_s: float, **payload: Any) -> None:
        """Queue ``kind`` for ``ref`` to run ``delay_s`` from now. Call inside the caller's transaction."""
        if kind not in self._handlers:
            raise ValueError(f"no job handler registered for {kind!r}")
        self._twin.db.execute(
            "INSERT INTO jobs (due, kind, tenant_id, ref, payload) VALUES (?,?,?,?,?)",
            (self._twin.clock.now() + delay_s, kind, tenant_id, ref, json.dumps(payload)),
        )

    def cancel(self, ref: str, kind: str | None = None) -> None:
        if kind is None:
            self._twin.db.execute("DELETE FROM jobs WHERE ref = ?", (ref,))
        else:
            self._twin.db.execute("DELETE FROM jobs WHERE ref = ? AND kind = ?", (ref, kind))

    def run_due(self, limit: int = 500, *, tenant_id: str | None = None) -> int:
        """Run every job due by now (jobs a handler schedules for now run too). Returns how many ran.

        :param tenant_id: run only this tenant's jobs (``POST /_sandbox/tick``); None: every tenant's.
        """
        ran = 0
        db = self._twin.db
        sql = "SELECT id, due, kind, tenant_id, ref, payload FROM jobs WHERE due <= ?"
        if tenant_id is not None:
            sql += " AND tenant_id = ?"
        while ran < limit:
            job: Job | None = None
            try:
                with db.tx():
                    now = self._twin.clock.now()
                    row = db.one(sql + " ORDER BY due, id LIMIT 1", (now,) if tenant_id is None else (now, tenant_id))
                    if row is None:
                        return ran
                    job = Job(row[0], row[1], row[2], row[3], row[4], json.loads(row[5]))
                    db.execute("DELETE FROM jobs WHERE id = ?", (job.id,))
                    handler = self._handlers.get(job.kind)
                    if handler is None:
                        log.error("dropping job %s: no handler for kind %r", job.id, job.kind)
                    else:
                        handler(self._twin, job)
            except Exception:
                # A failing handler must not wedge the queue: drop the job, keep the evidence in the log.
                log.exception(
                    "job %s (%s for %s) failed and was dropped", job and job.id, job and job.kind, job and job.ref
                )
                if job is not None:
                    with db.tx():
                        db.execute("DELETE FROM jobs WHERE id = ?", (job.id,))
            ran += 1
        return ran
