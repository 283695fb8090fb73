"""The OpenTelemetry environment every integration the suite starts gets, so an SDK configured from the environment
exports to the suite's receiver with no code change — and what happens to a team's own settings.

- ``OTEL_EXPORTER_OTLP_ENDPOINT``: the receiver (``http://127.0.0.1:<port>``). A team's own value is *replaced*
  (spans sent elsewhere cannot be judged), and so are the per-signal ``OTEL_EXPORTER_OTLP_{TRACES,LOGS,METRICS}
  _ENDPOINT`` when the team set them (they would win over the general one): each replacement is listed in
  ``replaced`` and shown in the log checks' evidence.
- ``OTEL_EXPORTER_OTLP_PROTOCOL``: ``http/protobuf`` unless the team set it, which is *kept* (``kept``); the
  receiver reads ``http/protobuf`` and ``http/json``, so a team's ``grpc`` means no span arrives (``notes`` says so).
- ``OTEL_BSP_SCHEDULE_DELAY`` / ``OTEL_BLRP_SCHEDULE_DELAY``: ``SCHEDULE_DELAY_MS`` (batches arrive within a
  tenth of a second, so the checks wait little); a team's value is replaced.

Everything else (``OTEL_SERVICE_NAME``, ``OTEL_TRACES_EXPORTER``, ``OTEL_SDK_DISABLED``, header capture…) is the
team's and untouched. ``applied`` puts the variables in this process's environment while a block runs (an
``exec:`` program inherits them as it starts; an in-process factory's SDK reads them as it builds its exporter).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field

__all__ = ["SCHEDULE_DELAY_MS", "OtelEnvironment", "applied", "otel_environment"]

SCHEDULE_DELAY_MS = 100
"""The batch span and log record processors' export interval the suite sets (the SDKs' defaults: 5 s, 1 s)."""
RECEIVED_PROTOCOLS = ("http/protobuf", "http/json")
ENDPOINT = "OTEL_EXPORTER_OTLP_ENDPOINT"
PROTOCOL = "OTEL_EXPORTER_OTLP_PROTOCOL"
SIGNALS = {"TRACES": "traces", "LOGS": "logs", "METRICS": "metrics"}


@dataclass(frozen=True)
class OtelEnvironment:
    """The variables to set (``variables``), the team's settings they replace (names only: an endpoint may carry
    credentials) and the team's settings kept (name -> value), with what a reader must know (``notes``)."""

    variables: Mapping[str, str]
    replaced: tuple[str, ...] = ()
    kept: Mapping[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {
            "endpoint": self.variables.get(ENDPOINT),
            "set": sorted(self.variables),
            "replaced": list(self.replaced),
            "kept": dict(self.kept),
            "notes": list(self.notes),
        }


def otel_environment(endpoint: str, current: Mapping[str, str]) -> OtelEnvironment:
    """What to set for a receiver at ``endpoint``, given the team's environment ``current``."""
    variables = {
        ENDPOINT: endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": str(SCHEDULE_DELAY_MS),
        "OTEL_BLRP_SCHEDULE_DELAY": str(SCHEDULE_DELAY_MS),
    }
    for upper, path in SIGNALS.items():
        name = f"OTEL_EXPORTER_OTLP_{upper}_ENDPOINT"
        if current.get(name):
            variables[name] = f"{endpoint}/v1/{path}"
    replaced = tuple(sorted(name for name, value in variables.items() if current.get(name, value) != value))
    kept: dict[str, str] = {}
    notes: list[str] = []
    protocols = {name: current[name] for name in current if name.startswith("OTEL_EXPORTER_OTLP_") and name.endswith(
        "_PROTOCOL") and current[name]}  # fmt: skip
    if PROTOCOL not in protocols:
        variables[PROTOCOL] = "http/protobuf"
    for name, value in sorted(protocols.items()):
        kept[name] = value
        if value.strip().lower() not in RECEIVED_PROTOCOLS:
            notes.append(
                f"{name}={value} is kept as set, but the suite's receiver speaks OTLP/HTTP only (http/protobuf, "
                f"http/json): unset it for the run, or set it to http/protobuf, so spans reach the suite"
            )
    if replaced:
        notes.append(
            f"the suite replaced {', '.join(replaced)} for this run so the integration's spans and log records "
            "reach its receiver"
        )
    return OtelEnvironment(variables, replaced, kept, tuple(notes))


_LOCK = threading.RLock()


@contextlib.contextmanager
def applied(variables: Mapping[str, str], environ: MutableMapping[str, str] | None = None) -> Iterator[None]:
    """``variables`` in ``environ`` (this process's environment) while the block runs, then as they were. One block
    at a time in the process (integrations are started one at a time)."""
    target = os.environ if environ is None else environ
    with _LOCK:
        before = {name: target.get(name) for name in variables}
        target.update(variables)
        try:
            yield
        finally:
            for name, value in before.items():
                if value is None:
                    target.pop(name, None)
                else:
                    target[name] = value
