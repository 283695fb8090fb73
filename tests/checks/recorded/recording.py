"""The recordings' format, shared by every recorder (``tests/checks/recorded/record.py``, ``.../cutover/record.py``,
``tests/protocol/recorded/record.py``): what a recording keeps of what the scenarios observed, the proof that it
is enough, and reading it back.

A recording is ``{scenario: {"facts": ..., "missing": ...}}`` — never evidence (no judge reads it) — trimmed by
``kept``:

- an exchange (``Exchange``) keeps what the judges read: ``seq``, ``method``, ``path``, ``status``, its timing
  (``started``, ``finished``, ``duration_ms``, exactly as observed: the backoff judges read them), and when not
  blank ``query``, ``idempotency_key``, ``body_sha256`` (blank: the hash of an empty body), ``request_id`` and
  ``fault``. The rest (headers, key id, body size, the upstream's side, the fault's kind, the proxy's outcome and
  error, whether the connection was reused) no judge reads: dropped, and restored blank by ``load``;
- a ``Probe``, ``Outcome`` or ``LogLine`` leaves out a field equal to its default (``None``): decoding restores it;
- httpcore's DEBUG trace of the transport (connect, send headers, receive body: no header value, no body, never the
  integration's own words) is dropped, as a log line and from a log kept as one text.

``write`` refuses (AssertionError) to write a recording over which any judge whose scenarios it holds says anything
different — kind of verdict, cause, expected, observed, fix or reason — from what it says over the facts as
observed: the trimming can never change a verdict.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from bluum_readiness.checks import registry
from bluum_readiness.checks.judge import judge
from bluum_readiness.checks.observation import Observation

#: An exchange's fields a recording keeps when they are blank: what a reader needs (the attempt, its answer, its
#: timing).
ALWAYS = ("seq", "method", "path", "status", "started", "finished", "duration_ms")
EMPTY_BODY_SHA256 = hashlib.sha256(b"").hexdigest()
#: Every other field of an exchange, with its blank value: left out when blank, dropped when no judge reads it
#: (``DROPPED``), and restored to this value by ``load``.
BLANKS: dict[str, Any] = {
    "query": "",
    "idempotency_key": None,
    "auth_key_id": None,
    "request_headers": [],
    "body_sha256": EMPTY_BODY_SHA256,
    "body_size": 0,
    "request_id": None,
    "response_headers": [],
    "upstream_status": None,
    "upstream_ms": None,
    "upstream_committed": False,
    "fault": None,
    "fault_kind": None,
    "outcome": "",
    "error": None,
    "reused_connection": None,
}
#: No judge reads these (``write``'s proof would refuse the recording if one did).
DROPPED = frozenset(
    {
        "auth_key_id",
        "request_headers",
        "response_headers",
        "body_size",
        "upstream_status",
        "upstream_ms",
        "upstream_committed",
        "fault_kind",
        "outcome",
        "error",
        "reused_connection",
    }
)
#: The typed facts whose fields default to ``None`` (left out when ``None``).
DEFAULTED = ("Probe", "Outcome", "LogLine")
TRACE_LOGGER = "httpcore"
TRACE_LINE = re.compile(rf"{TRACE_LOGGER}(\.\S+)? DEBUG ")


def _trace(value: Any) -> bool:
    """A Python log record of httpcore's at DEBUG: the transport's trace."""
    return (
        isinstance(value, dict)
        and value.get("__type__") == "LogLine"
        and value.get("source") == "logging"
        and str(value.get("logger") or "").partition(".")[0] == TRACE_LOGGER
        and value.get("level") == 10  # noqa: PLR2004 - logging.DEBUG
    )


def _duration_ms(exchange: Mapping[str, Any]) -> float:
    """An exchange's ``duration_ms`` as the proxy computes it from its ``started`` and ``finished``."""
    return round((exchange["finished"] - exchange["started"]) * 1000, 3)


def _prefix(line: Mapping[str, Any]) -> str:
    """What the harness writes before a log record's message in its ``text``: its logger and level name."""
    return f"{line['logger']} {logging.getLevelName(line['level'])} "


def _exchange(value: dict[str, Any]) -> dict[str, Any]:
    """An encoded exchange without the fields no judge reads, nor the blank ones, nor ``duration_ms`` when it is
    what ``started`` and ``finished`` give."""
    derived = value["duration_ms"] == _duration_ms(value)
    return {
        k: v
        for k, v in value.items()
        if k not in DROPPED and not (k in BLANKS and v == BLANKS[k]) and not (k == "duration_ms" and derived)
    }


def _log_line(value: dict[str, Any]) -> dict[str, Any]:
    """An encoded log line without its ``None`` fields, nor a record's ``message`` when its ``text`` is the logger,
    the level's name and the message (as the harness writes it)."""
    record = value.get("source") == "logging" and value.get("logger") is not None and value.get("level") is not None
    derived = record and value.get("message") is not None and value["text"] == _prefix(value) + value["message"]
    # a record's message of None stays (``load`` restores an absent one from the text)
    kept_none = ("message",) if record else ()
    return {
        k: trimmed(v)
        for k, v in value.items()
        if (v is not None or k in kept_none) and not (k == "message" and derived)
    }


def _untagged(value: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in value.items() if k != "__type__"}


def _probe(value: dict[str, Any]) -> dict[str, Any]:
    """An encoded probe without its ``None`` fields, its outcome and attempts untagged (they can only be an
    ``Outcome`` and exchanges: ``load`` tags them again)."""
    made: dict[str, Any] = {}
    for k, v in value.items():
        if k == "outcome":
            made[k] = _untagged(trimmed(v))
        elif k == "attempts":
            made[k] = [_untagged(_exchange(x)) for x in v]
        elif v is not None:
            made[k] = trimmed(v)
    return made


def trimmed(value: Any) -> Any:
    """An encoded fact (``encode``) as a recording keeps it."""
    if isinstance(value, dict):
        if value.get("__type__") == "Exchange":
            return _exchange(value)
        if value.get("__type__") == "LogLine":
            return _log_line(value)
        if value.get("__type__") == "Probe":
            return _probe(value)
        typed = value.get("__type__") in DEFAULTED
        return {k: trimmed(v) for k, v in value.items() if not (typed and v is None)}
    if isinstance(value, list):
        return [trimmed(v) for v in value if not _trace(v)]
    if isinstance(value, str) and f"{TRACE_LOGGER}." in value:  # a log as one text (personal-data's sources)
        return "\n".join(line for line in value.split("\n") if not TRACE_LINE.match(line))
    return value


def kept(observation: Observation) -> dict[str, Any]:
    """What a recording keeps of ``observation``: its trimmed facts and its missing facts."""
    made = observation.to_dict()
    return {"facts": trimmed(made["facts"]), "missing": made["missing"]}


def _restored(value: Any) -> Any:
    if isinstance(value, dict):
        if value.get("__type__") == "Probe":
            return {
                **value,
                "outcome": _restored({"__type__": "Outcome", **value["outcome"]}),
                "attempts": [_restored({"__type__": "Exchange", **x}) for x in value["attempts"]],
            }
        if value.get("__type__") == "Exchange":
            return {**BLANKS, "duration_ms": _duration_ms(value), **value}
        if value.get("__type__") == "LogLine" and "message" not in value and "logger" in value and "level" in value:
            return {**value, "message": value["text"].removeprefix(_prefix(value))}
        return {k: _restored(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_restored(v) for v in value]
    return value


def parse(text: str) -> dict[str, Observation]:
    """The observations of a recording's text, by scenario (what ``kept`` left out restored)."""
    data = json.loads(text)
    return {scenario: Observation.from_dict({"scenario": scenario, **_restored(o)}) for scenario, o in data.items()}


def load(path: Path) -> dict[str, Observation]:
    """The observations recorded in ``path``, by scenario."""
    return parse(path.read_text())


def dumps(value: Any, indent: int = 0) -> str:
    """JSON that reads: a container on one line when it fits (an attempt, a delivery), else one item a line."""
    pad, inner = " " * indent, " " * (indent + 1)
    flat = json.dumps(value)
    if len(flat) + indent <= 110:  # noqa: PLR2004 - a line's width
        return flat
    if isinstance(value, dict) and any(isinstance(v, dict | list) and v for v in value.values()):
        items = [f"{inner}{json.dumps(k)}: {dumps(v, indent + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"
    if isinstance(value, list) and any(isinstance(v, dict | list) and v for v in value):
        return "[\n" + ",\n".join(f"{inner}{dumps(v, indent + 1)}" for v in value) + f"\n{pad}]"
    return json.dumps(value)


def said(verdict: Any) -> tuple[Any, ...]:
    """What a verdict says: its kind, cause, expectation, observation and fix, or its reason (not its evidence)."""
    return (type(verdict), *(getattr(verdict, a, None) for a in ("cause", "expected", "observed", "fix", "reason")))


def prove(name: str, observed: Mapping[str, Observation], text: str) -> int:
    """Raise AssertionError unless every judge whose scenarios ``observed`` holds says the same over the recording
    ``text`` (read back as the tests read it) as over ``observed``; returns how many judges were compared."""
    as_recorded = parse(text)
    assert set(as_recorded) == set(observed), (name, set(observed) ^ set(as_recorded))
    compared = 0
    for check in registry:
        spec = check.judge
        if spec is None or not set(spec.scenarios) <= set(observed):
            continue
        as_seen, as_kept = judge(spec, observed), judge(spec, as_recorded)
        assert said(as_seen) == said(as_kept), (
            f"refusing to write {name}: {check.id} judges the recording differently ({as_kept}) from the facts as "
            f"observed ({as_seen}); keep what it reads in tests/checks/recorded/recording.py"
        )
        compared += 1
    return compared


def write(path: Path, observed: Mapping[str, Observation], redact: Callable[[str], str] = lambda text: text) -> str:
    """Write the recording of ``observed`` (by scenario) to ``path`` — trimmed, then ``redact``-ed (secrets) — once
    ``prove`` holds for it; returns a line saying what was written."""
    text = redact(dumps({scenario: kept(o) for scenario, o in observed.items()}))
    compared = prove(path.stem, observed, text)
    path.write_text(text + "\n")
    return f"recorded {path.stem}: {', '.join(observed)} ({len(text) + 1:,} bytes, {compared} verdicts as observed)"
