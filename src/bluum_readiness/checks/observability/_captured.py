"""What the observability checks share: the item, and what the integration logged recorded as facts with every
secret marked by its name (``marked``: an observation keeps where a secret was, never the secret).

Python records are captured at the root logger: when none but an HTTP library's arrived (and no span or log record
over OTLP), a finding's fix names what hides a log from it (``ROOT_LOGGER_FIX``: ``propagate = False``, structlog's
default configuration) — ``request-log``'s, ``failures-logged``'s and ``no-secrets-in-logs``' alike.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from bluum_readiness.checks import _logs
from bluum_readiness.checks._support import read_capability
from bluum_readiness.checks.observation import Scene
from bluum_readiness.harness import LogLine
from bluum_readiness.otlp import LOG_SOURCE, SPAN_SOURCE

if TYPE_CHECKING:
    from bluum_readiness.harness import Harness, LogCapture

ITEM = "observability"
ROOT_LOGGER_FIX = (
    "; if your integration does log them: Python logs are read through the root logger, so a logger "
    "with propagate = False, or structlog's default configuration (it prints to stdout, not through logging), is "
    "invisible — let the logger propagate, or configure structlog with "
    "logger_factory=structlog.stdlib.LoggerFactory() (JSON through structlog.stdlib.ProcessorFormatter, or "
    "structlog.processors.JSONRenderer as the last processor) (docs/adapter-contract.md)"
)


def python_log_unseen(lines: Sequence[LogLine], programs: int) -> bool:
    """A Python integration none of whose own log records reached the root logger (only an HTTP library's, or
    none at all) and no span or log record over OTLP: what ``ROOT_LOGGER_FIX`` explains. Never an ``exec:`` program
    (its log is its stderr)."""
    exported = any(line.source in (SPAN_SOURCE, LOG_SOURCE) for line in lines)
    return not programs and not exported and not _logs.own_python_lines(lines)


def marked(value: Any, secrets: Mapping[str, str]) -> Any:
    """``value`` with every secret replaced by its name in brackets ("[the API secret]"): an observation keeps where
    a secret was, never the secret."""
    if isinstance(value, str):
        for name, secret in secrets.items():
            value = value.replace(secret, f"[{name}]")
        return value
    if isinstance(value, LogLine):
        return dataclasses.replace(
            value,
            text=marked(value.text, secrets),
            message=marked(value.message, secrets),
            fields=marked(value.fields, secrets),
        )
    if isinstance(value, Mapping):
        return {str(k): marked(v, secrets) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [marked(v, secrets) for v in value]
    return value


def suite_secrets(h: Harness) -> dict[str, str]:
    """The secrets a log must never show, by the name a finding gives them."""
    pair = h.credentials.current
    found = {"the API secret": pair.secret, "the Basic authorization token": pair.basic_token()}
    if h.webhook_secret.known:
        found["the webhook secret"] = h.webhook_secret.get()
    return found


def record_logs(s: Scene, logs: LogCapture, secrets: Mapping[str, str]) -> None:
    """The captured log as facts: its lines (secrets marked) and how many programs' stderr was read."""
    s.fact("log", tuple(marked(line, secrets) for line in logs.lines))
    s.fact("programs", logs.programs)


def record_capability(s: Scene, name: str, secrets: Mapping[str, str], keep: Callable[[Any], bool] = bool) -> None:
    """What ``request_log()`` / ``alerts()`` returned (secrets marked) as the fact ``name``; missing without it."""
    found, why = read_capability(s.integration, name)
    if why is not None:
        s.missing(name, why)
        return
    entries = [e for e in found if isinstance(e, dict) and keep(e)] if isinstance(found, list) else found
    s.fact(name, marked(entries, secrets))
