"""Observations recorded from a real run of the OpenTelemetry-instrumented Python program's known-bad variant
without the X-Request-Id header capture (``tests/integrations/program/otel_adapter.py --variant=no-header-capture``)
as an ``exec:`` program over the protocol, its spans arriving over OTLP/HTTP at the suite's receiver, for
``tests/checks/test_opentelemetry_logs.py``. One file per variant, trimmed to what the judges read
(``tests/checks/recorded/recording.py``). The other variants are still run live (the secret-attribute one proves
that a secret arriving in a span attribute is redacted from everything the suite keeps).

Re-record after a scenario changes its facts (the tests say which recording is stale) with::

    python -m tests.checks.recorded.otel.record [name ...]
"""

from __future__ import annotations

from pathlib import Path

from tests.checks.recorded import Folder

HERE = Path(__file__).parent
FOLDER = Folder(HERE)
