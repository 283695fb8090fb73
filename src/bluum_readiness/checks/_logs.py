"""Reading an integration's log as teams really write it: JSON lines (pino, winston, zap, structlog, OpenTelemetry
attribute names), logfmt (Go's slog and logrus, ``key=value``), Python log records with structured extras, plain
text, and the spans and log records it exported to the suite's OTLP receiver (``otlp span`` / ``otlp log`` lines
whose fields are their attributes: the HTTP semantic conventions are among the aliases).

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
from bluum_readiness.otlp import LOG_SOURCE, SPAN_SOURCE
from bluum_readiness.proxy.recorder import Exchange

__all__ = [
    "ALIASES",
    "Entry",
    "exchange_problem",
    "exchange_problems",
    "logs_without_id",
    "names_failure",
    "own_python_lines",
    "read",
    "same_path",
    "scanned",
    "warns_about",
]

ALIASES: dict[str, tuple[str, ...]] = {
    "method": (
        "method",
        "http.method",
        "http.request.method",
        "http_method",
        "httpmethod",
        "request_method",
        "requestmethod",
        "verb",
    ),
    "path": (
        "path",
        "url",
        "uri",
        "url.path",
        "url.full",
        "url.original",
        "http.url",
        "http.target",
        "http.path",
        "request_path",
        "requestpath",
        "request_url",
        "requesturl",
        "pathname",
        "endpoint",
        "route",
    ),
    "status": (
        "status",
        "status_code",
        "statuscode",
        "http.status_code",
        "http.response.status_code",
        "http_status",
        "httpstatus",
        "response.status",
        "response_status",
        "responsestatus",
    ),
    "request_id": (
        "request_id",
        "requestid",
        "x-request-id",
        "x_request_id",
        "xrequestid",
        "http.response.header.x-request-id",
        "bluum_request_id",
        "reqid",
        "req_id",
    ),
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
        "responsetimems",
        "duration_s",
        "duration_seconds",
        "duration_ns",
        "elapsed_s",
        "elapsed_time",
        "elapsedtime",
        "request_duration",
        "requestduration",
        "took",
        "took_ms",
        "time_ms",
        "ms",
        "http.client.request.duration",
        "http.server.request.duration",
        "event.duration",
    ),
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
    ),
    "level": ("level", "levelname", "severity", "log.level", "lvl", "severity_text", "severitytext", "loglevel"),
    "message": ("msg", "message", "event", "body"),
}

#: Dotted key segments that hold an error (pino's ``err.code``, zap's ``error``, structlog's ``exception``).
ERROR_KEYS = frozenset(
    {"error", "err", "exception", "exc_info", "failure", "error_type", "errortype", "error_code", "errorcode", "cause"}
)
#: Words that name a network failure (an exchange that got no answer).
FAILURE_WORDS = re.compile(
    r"timeout|timed.?out|etimedout|reset|econn|refused|closed|disconnect|abort|hang.?up|epipe|broken.?pipe|"
    r"und_err|no.?response|network|protocol.?error|fetch failed|unreachable|socket|eof",
    re.IGNORECASE,
)
_LEVEL_WORDS = {
    "trace": 5,
    "debug": 10,
    "info": 20,
    "notice": 25,
    "warn": 30,
    "warning": 30,
    "error": 40,
    "err": 40,
    "severe": 40,
    "fatal": 50,
    "critical": 50,
    "crit": 50,
    "alert": 50,
    "emerg": 50,
    "panic": 50,
}
_TEXT_LEVEL = re.compile(r"\b(TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|SEVERE|FATAL|CRITICAL|PANIC)\b")
_LOGFMT_PAIR = re.compile(r'(?:^|\s)([A-Za-z_][\w.\-]*)=("(?:[^"\\]|\\.)*"|[^\s"]*)')
_DURATION_TEXT = re.compile(r"^\s*\d+(?:\.\d+)?\s*(?:ns|us|µs|ms|s)?\s*$")


@dataclass(frozen=True)
class Entry:
    """One line of the integration's log, as the checks read it.

    :param source: where it came from: ``logging`` (a Python record), ``stderr`` (a program's line), ``otlp span``
        or ``otlp log`` (a span or log record the integration exported to the suite's OTLP receiver: its attributes
        are its fields), or ``request_log()``.
    :param text: the line as written (the formatted record for Python logging).
    :param fields: the line's fields, flattened, for a structured line (JSON, logfmt, a record's extras); None for
        plain text.
    :param level: its level on Python's scale (30 WARNING, 40 ERROR…), or None when the line does not say.
    :param kind: ``json`` (a JSON object: a stderr line, a record's JSON message, structlog's event dict), ``logfmt``,
        ``record`` (a Python record structured only by its ``extra=`` fields) or ``text``.
    :param prose: what the line says in words: the text of a plain line, the message of a record or JSON line, a
        logfmt line's words outside its ``key=value`` pairs. A field the structure lacks (the method, the path, the
        status) may be written here instead (``logger.info("GET /v1/… 200", extra={"request_id": …})``).
    """

    source: str
    text: str
    fields: Mapping[str, Any] | None
    level: int | None
    kind: str = "text"
    prose: str = ""

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
    """The captured lines as entries (structure and level recognised): a program's entry written over several
    lines — a pretty-printed JSON object, a ``console.error("…", {…})`` with an object, a Python traceback — is one
    entry (``entries``)."""
    return [_entry(line) for line in entries(lines)]


MAX_ENTRY_LINES = 200
"""The longest entry read as one: an opening brace never closed within it leaves the lines as they are."""
_TRACEBACK = "Traceback (most recent call last):"


def entries(lines: Iterable[LogLine]) -> list[LogLine]:
    """``lines`` with each multi-line entry of a program's stderr joined into one (its lines, newline-separated):
    a line that opens an object or array (``{``, ``[`` at its end) up to the line that closes it, and a traceback up
    to its exception line. Python log records are entries already."""
    pending = list(lines)
    out: list[LogLine] = []
    i = 0
    while i < len(pending):
        line = pending[i]
        end = _entry_end(pending, i) if line.source == "stderr" else i
        if end > i:
            out.append(LogLine("stderr", "\n".join(x.text for x in pending[i : end + 1])))
        else:
            out.append(line)
        i = end + 1
    return out


def _entry_end(lines: Sequence[LogLine], start: int) -> int:
    """The index of the last line of the entry that begins at ``start`` (``start`` itself for a one-line entry)."""
    first = lines[start].text.rstrip()
    limit = min(len(lines), start + MAX_ENTRY_LINES)
    if first == _TRACEBACK or first.endswith(_TRACEBACK):
        end = start
        while end + 1 < limit and lines[end + 1].source == "stderr" and lines[end + 1].text[:1] in (" ", "\t"):
            end += 1
        if end + 1 < limit and lines[end + 1].source == "stderr":
            end += 1  # the exception's own line: "ValueError: …"
        return end
    if not first.endswith(("{", "[")):
        return start
    depth = 0
    for end in range(start, limit):
        if lines[end].source != "stderr":
            return start
        depth += _depth_change(lines[end].text)
        if depth <= 0:
            return end
    return start


def _depth_change(text: str) -> int:
    """Brackets opened minus closed on a line, outside quoted strings."""
    depth, quote, escaped = 0, "", False
    for char in text:
        if quote:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == quote:
                quote = ""
        elif char in "\"'`":
            quote = char
        elif char in "{[":
            depth += 1
        elif char in "}]":
            depth -= 1
    return depth


_JS_KEY = re.compile(r"(?m)(^|[{,]\s*)([A-Za-z_$][\w$]*|'[^'\n]*')\s*:")
_JS_STRING = re.compile(r"'((?:[^'\\\n]|\\.)*)'")
_JS_TRAILING_COMMA = re.compile(r",(\s*[}\]])")


def _js_object(text: str) -> dict[str, Any] | None:
    """An object as Node's ``console.*`` prints it (``{ status: 400, url: '/v1/…' }``: unquoted keys, single quotes),
    read as JSON where it can be; None otherwise."""
    quoted = _JS_STRING.sub(lambda m: json.dumps(m.group(1).replace("\\'", "'")), text)
    keyed = _JS_KEY.sub(lambda m: f"{m.group(1)}{json.dumps(m.group(2).strip(chr(39)))}:", quoted)
    cleaned = _JS_TRAILING_COMMA.sub(r"\1", keyed.replace("undefined", "null"))
    try:
        value = json.loads(cleaned)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


OPTIONAL_SOURCES = {
    "stderr": "the program's stderr",
    SPAN_SOURCE: "OpenTelemetry spans",
    LOG_SOURCE: "OpenTelemetry log records",
}
"""The log sources named in a scan only when the integration wrote to them (its name in a finding)."""


def sources(lines: Sequence[LogLine], request_log: Any = None, alerts: Any = None) -> dict[str, str]:
    """Every text the integration wrote, by where it came from — what the scans for a secret or personal data read:
    ``request_log()`` and ``alerts()`` when given, Python logging, and a program's stderr, the spans and the log
    records it exported over OTLP (attributes, events, bodies, resource) when it wrote any."""
    texts: dict[str, str] = {}
    for value, where in ((request_log, "request_log()"), (alerts, "alerts()")):
        if value is not None:
            texts[where] = json.dumps(value, default=repr)
    texts["Python logging"] = "\n".join(line.text for line in lines if line.source == "logging")
    for source, where in OPTIONAL_SOURCES.items():
        written = [line.text for line in lines if line.source == source]
        if written:
            texts[where] = "\n".join(written)
    return texts


def sizes(lines: Sequence[LogLine], texts: Mapping[str, str]) -> dict[str, dict[str, int]]:
    """How much of each text was scanned: bytes, and lines (records) for the log sources (evidence, pass or not)."""
    counted = {
        "Python logging": sum(line.source == "logging" for line in lines),
        **{where: sum(line.source == source for line in lines) for source, where in OPTIONAL_SOURCES.items()},
    }
    return {
        where: {
            "bytes": len(text.encode("utf-8", errors="replace")),
            **({"lines": counted[where]} if where in counted else {}),
        }
        for where, text in texts.items()
    }


def scanned(lines: Sequence[LogLine]) -> dict[str, dict[str, int]]:
    """How much was read, per source: ``{"logging": {"lines": 12, "bytes": 2048}, …}``."""
    found: dict[str, dict[str, int]] = {}
    for line in lines:
        counts = found.setdefault(line.source, {"lines": 0, "bytes": 0})
        counts["lines"] += 1
        counts["bytes"] += len(line.text.encode("utf-8", errors="replace"))
    return found


# loggers of HTTP and networking libraries: their records reach the root logger whatever the integration's own
# loggers do, so they say nothing of whether the integration's own log is seen
LIBRARY_LOGGERS = frozenset(
    {
        "httpx",
        "httpcore",
        "urllib3",
        "requests",
        "aiohttp",
        "h11",
        "h2",
        "hpack",
        "asyncio",
        "charset_normalizer",
        "botocore",
        "boto3",
    }
)


def own_python_lines(lines: Iterable[LogLine]) -> list[LogLine]:
    """The Python log records not written by an HTTP or networking library (``LIBRARY_LOGGERS``)."""
    return [
        line
        for line in lines
        if line.source == "logging" and (line.logger or "").partition(".")[0] not in LIBRARY_LOGGERS
    ]


def _entry(line: LogLine) -> Entry:
    text = line.text
    said = text if line.source == "stderr" or line.message is None else line.message
    # e.g. structlog's JSONRenderer (the message is a JSON object) or a logfmt message
    parsed, kind = _parse_structured(said)
    extras = dict(_flatten(line.fields)) if line.fields else {}
    fields: dict[str, Any] | None = {**(parsed or {}), **extras} or None
    if parsed is None and extras:
        kind = "record"
    if kind == "json":
        prose = str(Entry("", "", fields, None).get("message") or "")
    elif kind == "logfmt":
        prose = " ".join([_LOGFMT_PAIR.sub(" ", said).strip(), str((parsed or {}).get("msg") or "")]).strip()
    else:
        prose = said
    level = line.level  # a Python record's, an OTLP log record's severity or span's status; never a stderr line's
    if level is None and line.source != "logging":
        level = _level(fields, text)
    return Entry(line.source, text, fields, level, kind, prose)


def _parse_structured(text: str) -> tuple[dict[str, Any] | None, str]:
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            value = json.loads(stripped)
        except ValueError:
            value = _js_object(stripped)
        if isinstance(value, dict):
            return dict(_flatten(value)), "json"
    if "\n" in stripped and "{" in stripped and stripped.endswith("}"):  # console.error("Bluum API Error:", {…})
        words, _, rest = stripped.partition("{")
        value = _js_object("{" + rest)
        if value is not None:
            return {**dict(_flatten(value)), "message": words.strip().rstrip(":")}, "json"
    pairs = _LOGFMT_PAIR.findall(text)
    if len(pairs) >= 3:
        return {key: _unquote(value) for key, value in pairs}, "logfmt"
    return None, "text"


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


def exchange_problems(entry: Entry, exchange: Exchange) -> list[str]:
    """What ``entry`` lacks to log ``exchange`` (empty when it logs it; the request id is the caller's concern).

    The method, path and status are read from the line's fields, or — where its structure has no such field — from
    its words (``Entry.prose``). A duration is required when the line is JSON or logs the exchange in fields (a
    structured access log can say how long it took); a line that says it in words needs none."""
    problems = []
    method, path, status = entry.get("method"), entry.get("path"), entry.get("status")
    if method is not None:
        if str(method).upper() != exchange.method:
            problems.append(f"method {method!r}")
    elif re.search(rf"\b{exchange.method}\b", entry.prose) is None:
        problems.append("no method")
    if path is not None:
        if not same_path(path, exchange.path):
            problems.append(f"path {path!r}")
    elif not _path_in_text(exchange.path, entry.prose):
        problems.append("no path")
    if status is not None:
        if str(status) != str(exchange.status):
            problems.append(f"status {status!r}")
    elif exchange.status is None or not _status_in_text(exchange.status, entry.prose):
        problems.append("no status" if entry.structured else f"no status {exchange.status}")
    in_fields = any(value is not None for value in (method, path, status))
    if (entry.kind == "json" or in_fields) and not _number(entry.get("duration")):
        problems.append("no duration")
    return problems


def exchange_problem(entry: Entry, exchange: Exchange) -> str | None:
    """Why ``entry`` — a line carrying the exchange's X-Request-Id — does not log it, or None when it does: its
    method, path and status are on the line (and, on a JSON or field-structured line, a duration)."""
    return ", ".join(exchange_problems(entry, exchange)) or None


def logs_without_id(entry: Entry, exchange: Exchange) -> bool:
    """``entry`` shows the exchange's method, path and status (an access-log line) — whatever its request id."""
    return all(p == "no duration" for p in exchange_problems(entry, exchange))


def _answered(status: Any) -> bool:
    """A logged status that is an HTTP answer (not ``None``, ``0``, ``"ERROR"``, ``"failed"``)."""
    try:
        return 100 <= int(str(status).strip()) <= 599
    except ValueError:
        return False


def _error_field(entry: Entry) -> bool:
    return entry.get("error") is not None or any(
        value not in (None, "", False) and ERROR_KEYS & set(key.lower().split("."))
        for key, value in (entry.fields or {}).items()
    )


def names_failure(entry: Entry, method: str, path: str) -> bool:
    """``entry`` logs an exchange of ``method path`` that got no answer, naming the failure: the method and path (in
    fields or words), no HTTP status, and an error field (``err.code``, ``error``, ``exception``…) or words such as
    timeout, ECONNRESET, "no response"."""
    logged_method, logged_path = entry.get("method"), entry.get("path")
    if logged_method is not None:
        if str(logged_method).upper() != method:
            return False
    elif re.search(rf"\b{method}\b", entry.prose or entry.text) is None:
        return False
    if logged_path is not None:
        if not same_path(logged_path, path):
            return False
    elif not _path_in_text(path, entry.prose or entry.text):
        return False
    if entry.structured:
        if _answered(entry.get("status")):
            return False
        return _error_field(entry) or FAILURE_WORDS.search(entry.text) is not None
    return FAILURE_WORDS.search(entry.text) is not None


def warns_about(entry: Entry, code: str, message: str) -> bool:
    """``entry`` is at WARNING or above and names Bluum's error ``code`` or its ``message``."""
    return (
        entry.level is not None and entry.level >= logging.WARNING and (entry.mentions(code) or entry.mentions(message))
    )
