"""What the receiver received, in arrival order, and waiting for what is still on its way.

``Telemetry`` keeps spans and log records (thread-safe: the receiver's event loop adds, a check's thread reads).
A check reads what arrived during its block (``mark`` / ``since``) after ``settle``: SDKs export in batches
(every ``OTEL_BSP_SCHEDULE_DELAY`` / ``OTEL_BLRP_SCHEDULE_DELAY`` ms, which the suite sets short), so spans for the
block's exchanges may still be in flight when it ends. ``settle`` waits — bounded — for the span of every exchange
that carried a sampled ``traceparent`` (the client span's id), then, for an integration that uses OpenTelemetry,
until its exports have gone quiet for ``quiet_s`` (log records carry no request to wait for); an integration that
shows no sign of OpenTelemetry is not waited for at all.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from bluum_readiness.otlp.records import LogRecord, Span

__all__ = ["MAX_KEPT", "Mark", "Settled", "Telemetry"]

MAX_KEPT = 100_000
"""Records kept per signal; past it the oldest half is dropped (a run's checks read only what their block made)."""


@dataclass(frozen=True)
class Mark:
    """A position in what was received (``Telemetry.mark``)."""

    spans: int
    logs: int


@dataclass
class Settled:
    """What ``settle`` waited for: the span ids expected and those that never came, the seconds it waited."""

    expected: int = 0
    missing: list[str] = field(default_factory=list)
    waited_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        waited = round(self.waited_s, 3)
        return {"spans_expected": self.expected, "spans_missing": len(self.missing), "waited_s": waited}


class Telemetry:
    """Spans and log records received, with counts of exports per signal."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._changed = threading.Condition()
        self._spans: list[Span] = []
        self._logs: list[LogRecord] = []
        self._dropped = {"spans": 0, "logs": 0}  # how many of the oldest were dropped (marks stay absolute)
        self._span_ids: set[str] = set()
        self.exports = {"traces": 0, "logs": 0, "metrics": 0}
        self.rejected = 0
        self._last_export = -float("inf")

    # -- the receiver's side -------------------------------------------------------------------------------------

    def add(self, signal: str, records: Iterable[Any]) -> None:
        """One accepted export of ``signal`` (``traces``, ``logs``, ``metrics``) and its records."""
        with self._changed:
            self.exports[signal] = self.exports.get(signal, 0) + 1
            self._last_export = self._clock()
            for record in records:
                if isinstance(record, Span):
                    self._spans.append(record)
                    self._span_ids.add(record.span_id)
                elif isinstance(record, LogRecord):
                    self._logs.append(record)
            self._trim()
            self._changed.notify_all()

    def reject(self) -> None:
        with self._changed:
            self.rejected += 1

    def _trim(self) -> None:
        for name, kept in (("spans", self._spans), ("logs", self._logs)):
            if len(kept) > MAX_KEPT:
                drop = len(kept) // 2
                if name == "spans":
                    self._span_ids.difference_update(span.span_id for span in kept[:drop])
                del kept[:drop]
                self._dropped[name] += drop

    # -- a check's side ------------------------------------------------------------------------------------------

    def mark(self) -> Mark:
        with self._changed:
            return Mark(self._dropped["spans"] + len(self._spans), self._dropped["logs"] + len(self._logs))

    def since(self, mark: Mark, not_before_ns: int = 0) -> list[Span | LogRecord]:
        """Spans, then log records, received after ``mark`` that happened at or after ``not_before_ns`` (a late
        batch of an earlier block's records is not this block's)."""
        with self._changed:
            spans = self._spans[max(0, mark.spans - self._dropped["spans"]) :]
            logs = self._logs[max(0, mark.logs - self._dropped["logs"]) :]
        received: list[Span | LogRecord] = [*spans, *logs]
        return [r for r in received if not r.time_ns or r.time_ns >= not_before_ns]

    @property
    def spans(self) -> list[Span]:
        with self._changed:
            return list(self._spans)

    @property
    def log_records(self) -> list[LogRecord]:
        with self._changed:
            return list(self._logs)

    def settle(self, span_ids: Collection[str], *, timeout: float, quiet_s: float) -> Settled:
        """Wait until every span in ``span_ids`` arrived; then, for an integration that shows it uses OpenTelemetry
        (it sent a ``traceparent``: ``span_ids``, or exported anything in this session), until no export arrived
        for ``quiet_s`` — its log records, and spans of requests that carried no ``traceparent``, have no id to
        wait for. Bounded by ``timeout``; returns at once for an integration that shows no sign of OpenTelemetry."""
        started = self._clock()
        deadline = started + timeout
        result = Settled(expected=len(span_ids))
        with self._changed:
            while not set(span_ids) <= self._span_ids and self._clock() < deadline:
                self._changed.wait(max(0.0, deadline - self._clock()))
            result.missing = sorted(set(span_ids) - self._span_ids)
            quiet = bool(span_ids) or self.exports["traces"] > 0 or self.exports["logs"] > 0
            while quiet and self._clock() < deadline:
                since_last = self._clock() - max(self._last_export, started)
                if since_last >= quiet_s:
                    break
                self._changed.wait(min(quiet_s - since_last, max(0.0, deadline - self._clock())))
        result.waited_s = self._clock() - started
        return result
