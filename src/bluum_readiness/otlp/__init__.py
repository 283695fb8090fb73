"""The suite's OpenTelemetry side: an OTLP/HTTP receiver the integrations it starts export to, so spans and log
records are a log source for the observability checks beside Python records and a program's stderr.

- ``records``: spans and log records as plain values, each readable as a log entry (``logged``).
- ``decode``: export requests read with the official ``opentelemetry-proto`` messages (protobuf or OTLP JSON,
  gzip or not).
- ``store``: what arrived (``Telemetry``), and waiting for what is still in flight (``settle``).
- ``receiver``: the ASGI app and ``OtlpReceiver``, served with uvicorn on 127.0.0.1.
- ``environment``: the ``OTEL_*`` variables every integration gets, and what happens to a team's own.

See docs/opentelemetry.md.
"""

from bluum_readiness.otlp.environment import OtelEnvironment, applied, otel_environment
from bluum_readiness.otlp.receiver import OtlpReceiver
from bluum_readiness.otlp.records import LOG_SOURCE, SPAN_SOURCE, LogRecord, Span, traceparent_span_id
from bluum_readiness.otlp.store import Settled, Telemetry

__all__ = [
    "LOG_SOURCE",
    "SPAN_SOURCE",
    "LogRecord",
    "OtelEnvironment",
    "OtlpReceiver",
    "Settled",
    "Span",
    "Telemetry",
    "applied",
    "otel_environment",
    "traceparent_span_id",
]
