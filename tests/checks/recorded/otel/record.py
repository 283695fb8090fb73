"""Record the observations of ``tests/checks/recorded/otel`` from real runs of the OpenTelemetry program's known-bad
variants (the embedded twin, real sockets, the program a separate process exporting over OTLP/HTTP):
``python -m tests.checks.recorded.otel.record [name ...]`` (all when none is named; a few seconds)."""

from __future__ import annotations

import sys

from bluum_readiness.config import Thresholds
from tests.checks.recorded import Plans, record_chosen
from tests.checks.recorded.otel import HERE


def recordings() -> Plans:
    """variant -> (how to make its factory, the checks it is judged on, the session's thresholds)."""
    from tests.checks import test_opentelemetry_logs as otel

    return {
        variant: ((lambda variant=variant: otel.otel_program(variant)), checks, Thresholds())
        for variant, (checks, _) in otel.KNOWN_BAD.items()
    }


if __name__ == "__main__":
    record_chosen(HERE, recordings(), sys.argv[1:])
