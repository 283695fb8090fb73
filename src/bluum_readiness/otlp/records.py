"""What the receiver keeps of an export: spans and log records as plain, typed values (no protobuf objects), each
able to say itself as a log entry (``logged``) for the checks that read an integration's log.

Attribute values are OTLP's ``AnyValue`` as Python values: str, bool, int, float, bytes (as hex), a list, or a dict
(a ``kvlist``). Ids are lowercase hex, as OTLP's JSON mapping writes them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

__all__ = ["LOG_SOURCE", "SPAN_SOURCE", "LogRecord", "Logged", "Span", "SpanEvent", "traceparent_span_id"]

SPAN_SOURCE = "otlp span"
"""The log source of a span received over OTLP (``LogLine.source``)."""
LOG_SOURCE = "otlp log"
"""The log source of a log record received over OTLP."""

KINDS = ("unspecified", "internal", "server", "client", "producer", "consumer")
STATUSES = ("UNSET", "OK", "ERROR")


class Logged(NamedTuple):
    """A record as one entry of the integration's log: the fields of ``harness.LogLine``."""

    source: str
    text: str
    level: int | None
    logger: str | None
    message: str | None
    fields: dict[str, Any] | None


@dataclass(frozen=True)
class SpanEvent:
    name: str
    time_ns: int
    attributes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Span:
    """One span as exported: its ids (hex), name, kind (``client``…), times (Unix nanoseconds), attributes, events
    (an ``exception`` event holds ``exception.type`` / ``exception.message``), status (``UNSET``, ``OK``,
    ``ERROR``) and the resource and instrumentation scope it came from."""

    trace_id: str
    span_id: str
    parent_span_id: str
    name: str
    kind: str
    start_ns: int
    end_ns: int
    attributes: Mapping[str, Any]
    events: tuple[SpanEvent, ...] = ()
    status: str = "UNSET"
    status_message: str = ""
    resource: Mapping[str, Any] = field(default_factory=dict)
    scope: str = ""

    @property
    def duration_ms(self) -> float:
        return max(0, self.end_ns - self.start_ns) / 1e6

    @property
    def time_ns(self) -> int:
        """When it happened (its start), for telling one capture's records from another's."""
        return self.start_ns

    def logged(self) -> Logged:
        """The span as a structured log entry: its attributes (``http.request.method``, ``url.full``,
        ``http.response.status_code``, captured headers…), ``duration_ms``, ``span_status`` (never a key an HTTP
        status alias matches) and the first exception event's ``exception.*`` attributes as fields; the text is
        all of it as JSON (what a scan for secrets reads); ERROR when the span's status is, else INFO."""
        fields: dict[str, Any] = dict(self.attributes)
        for event in self.events:
            if event.name == "exception":
                fields.update({k: v for k, v in event.attributes.items() if k.startswith("exception.")})
                break
        fields.update(
            {
                "duration_ms": round(self.duration_ms, 3),
                "span_name": self.name,
                "span_kind": self.kind,
                "span_status": self.status,
                "trace_id": self.trace_id,
                "span_id": self.span_id,
            }
        )
        if self.status_message:
            fields["span_status_message"] = self.status_message
        whole = {
            "span": self.name,
            "attributes": dict(self.attributes),
            "duration_ms": round(self.duration_ms, 3),
            "status": self.status,
            **({"status_message": self.status_message} if self.status_message else {}),
            "kind": self.kind,
            "events": [{"name": e.name, "attributes": dict(e.attributes)} for e in self.events],
            "trace_id": self.trace_id,
            "span_id": self.span_id,
            "resource": dict(self.resource),
            "scope": self.scope,
        }
        level = logging.ERROR if self.status == "ERROR" else logging.INFO
        return Logged(SPAN_SOURCE, _json(whole), level, self.scope or None, self.name, fields)


@dataclass(frozen=True)
class LogRecord:
    """One log record as exported: its body (a string, or structured), attributes, severity (OTLP's number 1–24
    and text), times (Unix nanoseconds; ``observed_ns`` when the record has no time of its own), the span it was
    written in (hex ids, empty when none), resource and scope."""

    time_ns: int
    body: Any
    attributes: Mapping[str, Any]
    severity_number: int = 0
    severity_text: str = ""
    trace_id: str = ""
    span_id: str = ""
    event_name: str = ""
    resource: Mapping[str, Any] = field(default_factory=dict)
    scope: str = ""

    @property
    def level(self) -> int | None:
        """The severity on Python's scale (OTLP's 1–4 TRACE … 21–24 FATAL), or None when it says none."""
        number = self.severity_number
        if number <= 0:
            return None
        return (5, 10, 20, 30, 40, 50)[min(5, (number - 1) // 4)]

    def logged(self) -> Logged:
        """The record as a log entry: its body is the message (a JSON string body is read as a JSON line would
        be; a structured body's keys are fields), its attributes are fields; the text has severity, body and
        attributes (what a scan reads)."""
        fields: dict[str, Any] = {}
        if isinstance(self.body, Mapping):
            fields.update(self.body)
            message = _json(self.body)
        else:
            message = self.body if isinstance(self.body, str) else _json(self.body)
        fields.update(self.attributes)
        if self.severity_text:
            fields["severity_text"] = self.severity_text
        if self.trace_id:
            fields.update({"trace_id": self.trace_id, "span_id": self.span_id})
        parts = [self.severity_text, message]
        if self.attributes:
            parts.append(_json(dict(self.attributes)))
        if self.resource:
            parts.append(_json({"resource": dict(self.resource)}))
        text = " ".join(p for p in parts if p)
        return Logged(LOG_SOURCE, text, self.level, self.scope or None, message, fields or None)


def _json(value: Any) -> str:
    return json.dumps(value, default=str, ensure_ascii=False, separators=(", ", ": "))


def traceparent_span_id(header: str | None) -> str | None:
    """The client span's id a W3C ``traceparent`` header carries (``00-<trace id>-<span id>-<flags>``), when the
    span is sampled (flags' lowest bit): the span an instrumented HTTP client exports for the request. None for a
    missing, malformed or unsampled one."""
    if not header:
        return None
    parts = header.strip().lower().split("-")
    if len(parts) < 4 or len(parts[1]) != 32 or len(parts[2]) != 16 or len(parts[3]) != 2:
        return None
    try:
        sampled = int(parts[3], 16) & 1
        int(parts[1], 16), int(parts[2], 16)
    except ValueError:
        return None
    return parts[2] if sampled and parts[2] != "0" * 16 else None
