"""Reading an integration's log as teams really write it: JSON lines (pino, winston, zap, structlog, OpenTelemetry
attribute names), logfmt (Go's slog and logrus, ``key=value``), Python log records with structured extras, and
plain text.

``read`` turns the captured ``LogLine``s into ``Entry``s: the line's text, its level on Python's scale when it
says one, and — for structured lines — its fields, flattened to dotted keys (``{"http": {"request": {"method":
"GET"}}}`` is ``http.request.method``). ``Entry.get("status")`` finds a field under any of its usual spellings
(``ALIASES``); a key matches an alias exactly or as its last dotted segments (``req.method``,
``bluum_exchange.status``).

The judgements the observability and error-handling checks share live here too: whether a line logs an exchange
(``exchange_problem``), a network failure (``names_failure``), or a refusal at WARNING or above
(``warns_about``).
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from bluum_readiness.harness import LogLine
from bluum_readiness.proxy.recorder import Exchange

__all__ = ["ALIASES", "Entry", "exchange_problem", "names_failure", "read", "same_path", "scanned", "warns_about"]

ALIASES: dict[str, tuple[str, ...]] = {
    "method": ("method", "http.method", "http.request.method", "http_method", "httpmethod", "verb"),
    "path": ("path", "url", "uri", "url.path", "url.full", "http.url", "http.target", "http.path", "endpoint", "route"),
    "status": (
        "status",
        "status_code",
        "statuscode",
        "http.status_code",
        "http.response.status_code",
        "http_status",
        "httpstatus",
        "response.status",
    ),  # fmt: skip
    "request_id": (
        "request_id",
        "requestid",
        "x-request-id",
        "x_request_id",
        "xrequestid",
        "http.response.header.x-request-id",
        "bluum_request_id",
    ),  # fmt: skip
    "duration": (
        "duration_ms",
        "duration",
        "durationms",
        "elapsed_ms",
        "elapsed",
        "elapsedms",
        "latency_ms",
        "latency",
        "latencyms",
        "response_time",
        "responsetime",
        "response_time_ms",
        "took",
        "took_ms",
        "time_ms",
        "ms",
        "http.client.request.duration",
        "http.server.request.duration",
        "event.duration",
    ),  # fmt: skip
    "error": (
        "error",
        "err",
        "exception",
        "failure",
        "error.type",
        "error.message",
        "error_type",
        "transport",
        "exc_info",
        "reason",
    ),  # fmt: skip
    "level": ("level", "levelname", "severity", "log.level", "lvl", "severity_text", "severitytext", "loglevel"),
    "message": ("msg", "message", "event", "body"),
}

#: Words that name a network failure (an exchange that got no answer).
FAILURE_WORDS = re.compile(
    r"timeout|timed.?out|etimedout|reset|econn|refused|closed|disconnect|abort|hang.?up|epipe|broken.?pipe|"
    r"und_err|no.?response|network|protocol.?error|fetch failed|unreachable|socket|eof",
    re.IGNORECASE,
)
_LEVEL_WORDS = {"trace": 5, "debug": 10, "info": 20, "notice": 25, "warn": 30, "warning": 30, "error": 40,
                "err": 40, "severe": 40, "fatal": 50, "critical": 50, "crit": 50, "alert": 50, "emerg": 50,
                "panic": 50}  # fmt: skip
_TEXT_LEVEL = re.compile(r"\b(TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|SEVERE|FATAL|CRITICAL|PANIC)\b")
_LOGFMT_PAIR = re.compile(r'(?:^|\s)([A-Za-z_][\w.\-]*)=("(?:[^"\\]|\\.)*"|[^\s"]*)')
_DURATION_TEXT = re.compile(r"^\s*\d+(?:\.\d+)?\s*(?:ns|us|µs|ms|s)?\s*$")


@dataclass(frozen=True)
class Entry:
    """One line of the integration's log, as the checks read it.

    :param source: where it came from: ``logging`` (a Python record), ``stderr`` (a program's line), or
        ``request_log()``.
    :param text: the line as written (the formatted record for Python logging).
    :param fields: the line's fields, flattened, for a structured line (JSON, logfmt, a record's extras); None for
        plain text.
    :param level: its level on Python's scale (30 WARNING, 40 ERROR…), or None when the line does not say.
    """

    source: str
    text: str
    fields: Mapping[str, Any] | None
    level: int | None

    @property
    def structured(self) -> bool:
        return self.fields is not None

    def get(self, name: str) -> Any:
        """The first field holding ``name`` (``method``, ``path``, ``status``, ``request_id``, ``duration``,
        ``error``, ``level``) under any of its usual spellings, or None."""
        if self.fields is None:
            return None
        for alias in ALIASES[name]:
            for key, value in self.fields.items():
                lowered = key.lower()
                if (lowered == alias or lowered.endswith("." + alias)) and value not in (None, ""):
                    return value
        return None

    def mentions(self, value: str) -> bool:
        """``value`` is on the line: in its text or one of its fields."""
        if not value:
            return False
        return value in self.text or any(value in str(v) for v in (self.fields or {}).values())

    def describe(self, limit: int = 240) -> str:
        return f"{self.source}: {self.text[:limit]}"


def read(lines: Iterable[LogLine]) -> list[Entry]:
    """The captured lines as entries (structure and level recognised)."""
    return [_entry(line) for line in lines]


def scanned(lines: Sequence[LogLine]) -> dict[str, dict[str, int]]:
    """How much was read, per source: ``{"logging": {"lines": 12, "bytes": 2048}, …}``."""
    found: dict[str, dict[str, int]] = {}
    for line in lines:
        counts = found.setdefault(line.source, {"lines": 0, "bytes": 0})
        counts["lines"] += 1
        counts["bytes"] += len(line.text.encode("utf-8", errors="replace"))
    return found


def _entry(line: LogLine) -> Entry:
    fields = dict(_flatten(line.fields)) if line.fields else None
    text = line.text
    if line.source == "stderr":
        fields = _parse_structured(text)
    elif fields is None and line.message is not None:
        fields = _parse_structured(line.message)  # e.g. structlog's JSONRenderer: the message is a JSON object
    level = line.level if line.source == "logging" else None
    if level is None:
        level = _level(fields, text)
    return Entry(line.source, text, fields, level)


def _parse_structured(text: str) -> dict[str, Any] | None:
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            value = json.loads(stripped)
        except ValueError:
            value = None
        if isinstance(value, dict):
            return dict(_flatten(value))
    pairs = _LOGFMT_PAIR.findall(text)
    if len(pairs) >= 3:
        return {key: _unquote(value) for key, value in pairs}
    return None


def _unquote(value: str) -> str:
    if len(value) >= 2 and value.startswith('"') and value.endswith('"'):
        try:
            unquoted: str = json.loads(value)
            return unquoted
        except ValueError:
            return value[1:-1]
    return value


def _flatten(value: Mapping[str, Any], prefix: str = "") -> Iterable[tuple[str, Any]]:
    for key, item in value.items():
        name = f"{prefix}{key}"
        if isinstance(item, Mapping):
            yield from _flatten(item, name + ".")
        else:
            yield name, item


def _level(fields: Mapping[str, Any] | None, text: str) -> int | None:
    raw: Any = None
    if fields is not None:
        raw = Entry("", "", fields, None).get("level")
    if isinstance(raw, int | float) and not isinstance(raw, bool):  # pino's numbers: 30 info, 40 warn, 50 error
        return logging.ERROR if raw >= 50 else logging.WARNING if raw >= 40 else logging.INFO
    if isinstance(raw, str):
        return _LEVEL_WORDS.get(raw.strip().lower())
    match = _TEXT_LEVEL.search(text)
    return _LEVEL_WORDS.get(match.group(1).lower()) if match else None


# -- judgements --------------------------------------------------------------------------------------------------


def same_path(logged: Any, seen: str) -> bool:
    """A logged path (absolute, relative to the base URL, or a whole URL) is the path the proxy saw."""
    text = str(logged or "")
    path = urlsplit(text).path if "://" in text else text.split("?", 1)[0]
    return path == seen or (path.startswith("/") and len(path) > 1 and seen.endswith(path))


def _status_in_text(status: int, text: str) -> bool:
    return re.search(rf"(?<![\w.]){status}(?![\w.])", text) is not None


def _path_in_text(path: str, text: str) -> bool:
    relative = path.removeprefix("/v1")
    return path in text or (relative != path and relative in text)


def _number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return math.isfinite(value) and value >= 0
    return isinstance(value, str) and _DURATION_TEXT.match(value) is not None


def exchange_problem(entry: Entry, exchange: Exchange) -> str | None:
    """Why ``entry`` — a line carrying the exchange's X-Request-Id — does not log it, or None when it does: its
    method, path and status are on the line (and, on a structured line, a duration)."""
    if entry.structured:
        missing = []
        method, path, status = entry.get("method"), entry.get("path"), entry.get("status")
        if str(method or "").upper() != exchange.method:
            missing.append(f"method {method!r}" if method else "no method")
        if not same_path(path, exchange.path):
            missing.append(f"path {path!r}" if path else "no path")
        if str(status) != str(exchange.status):
            missing.append(f"status {status!r}" if status is not None else "no status")
        if not _number(entry.get("duration")):
            missing.append("no duration")
        return ", ".join(missing) or None
    text = entry.text
    missing = [
        what
        for what, present in (
            ("no method", re.search(rf"\b{exchange.method}\b", text) is not None),
            ("no path", _path_in_text(exchange.path, text)),
            (f"no status {exchange.status}", exchange.status is not None and _status_in_text(exchange.status, text)),
        )
        if not present
    ]
    return ", ".join(missing) or None


def names_failure(entry: Entry, method: str, path: str) -> bool:
    """``entry`` logs an exchange of ``method path`` that got no answer, naming the failure."""
    if entry.structured:
        if str(entry.get("method") or "").upper() != method or not same_path(entry.get("path"), path):
            return False
        if entry.get("status") not in (None, "", "null", "None"):
            return False
        error = entry.get("error")
        return error is not None or FAILURE_WORDS.search(str(entry.get("message") or entry.text)) is not None
    return (
        re.search(rf"\b{method}\b", entry.text) is not None
        and _path_in_text(path, entry.text)
        and FAILURE_WORDS.search(entry.text) is not None
    )


def warns_about(entry: Entry, code: str, message: str) -> bool:
    """``entry`` is at WARNING or above and names Bluum's error ``code`` or its ``message``."""
    return (
        entry.level is not None and entry.level >= logging.WARNING and (entry.mentions(code) or entry.mentions(message))
    )
