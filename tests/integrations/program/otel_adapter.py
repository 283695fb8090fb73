"""A Python integration that logs only through OpenTelemetry, as teams instrument an HTTP client today: the
reference client (httpx), with the OpenTelemetry SDK's batch span processor and OTLP/HTTP exporter configured from
the environment the suite starts it with (``OTEL_EXPORTER_OTLP_ENDPOINT`` and the rest: no endpoint in the code)
and ``opentelemetry-instrumentation-httpx``. Its stderr stays empty and it has no ``request_log()``: its spans are
its whole log.

    exec:python tests/integrations/program/otel_adapter.py [--variant=NAME]

Variants: ``capture`` (default: ``OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_CLIENT_RESPONSE=x-request-id``, the
one setting a team adds); ``no-header-capture`` (the instrumentation as installed: spans without the request id);
``secret-attribute`` (a request hook copies the API key pair into a span attribute); ``log-records`` (no header
capture, but the client's request log — one record per exchange with its request id — exported as OpenTelemetry
log records through the SDK's ``LoggingHandler``).
"""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

from python_adapter import reference_operations, serve

VARIANTS = ("capture", "no-header-capture", "secret-attribute", "log-records")


def instrument(variant: str) -> None:
    """The OpenTelemetry setup a team writes once at start-up; everything else comes from the environment."""
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    if variant in ("capture", "secret-attribute"):
        os.environ["OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_CLIENT_RESPONSE"] = "x-request-id"
    resource = Resource.create({"service.name": f"acme-bluum-{variant}"})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)

    hook = None
    if variant == "secret-attribute":

        def hook(span: Any, request: Any) -> None:  # "to debug auth problems": the whole pair on every span
            pair = json.loads(Path(os.environ["BLUUM_CREDENTIALS_FILE"]).read_text())
            span.set_attribute("bluum.credentials", f"{pair['key']}:{pair['secret']}")

    HTTPXClientInstrumentor().instrument(request_hook=hook)

    root = logging.getLogger()
    root.addHandler(logging.NullHandler())  # nothing on stderr (Python's last-resort handler would print warnings)
    if variant == "log-records":
        from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
        from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
        from opentelemetry.sdk._logs.export import BatchLogRecordProcessor

        logs = LoggerProvider(resource=resource)
        logs.add_log_record_processor(BatchLogRecordProcessor(OTLPLogExporter()))
        root.addHandler(LoggingHandler(level=logging.INFO, logger_provider=logs))
        root.setLevel(logging.INFO)


def main() -> None:
    variant = next((a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--variant=")), "capture")
    if variant not in VARIANTS:
        raise SystemExit(f"unknown variant {variant!r}; one of {', '.join(VARIANTS)}")
    instrument(variant)
    operations, capabilities = reference_operations()
    for capability in ("request_log", "alerts"):  # its spans are its log
        operations.pop(capability)
        capabilities[capability] = False
    serve(operations, name=f"python-otel-{variant}", capabilities=capabilities)


if __name__ == "__main__":
    main()
